import { Module } from '@nestjs/common';
import { AgentsModule } from '../agents/agents.module';
import { API_KEY_LOOKUP } from '../auth/credentials';
import { Clock } from '../common/clock';
import { UltravoxModule } from '../ultravox/ultravox.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { ApiAccessController } from './api-access.controller';
import { ApiAccessService } from './api-access.service';
import { ApiKeysRepository } from './api-keys.repository';
import { UltravoxIntegrationController } from './ultravox-integration.controller';
import { UltravoxIntegrationService } from './ultravox-integration.service';
import { UltravoxAccountChecksRepository } from './ultravox-account-checks.repository';
import { UltravoxAccountMonitor } from './ultravox-account-monitor';
import { UltravoxWebhookRegistrar } from './ultravox-webhook-registrar';

@Module({
  imports: [UltravoxModule, WebhooksModule, AgentsModule],
  controllers: [UltravoxIntegrationController, ApiAccessController],
  providers: [
    UltravoxIntegrationService,
    UltravoxWebhookRegistrar,
    Clock,
    ApiAccessService,
    ApiKeysRepository,
    { provide: API_KEY_LOOKUP, useExisting: ApiKeysRepository },
  ],
  exports: [UltravoxIntegrationService, API_KEY_LOOKUP],
})
export class IntegrationsModule {}

/** The workers' side: the periodic check of each agency's Ultravox account and webhook. */
@Module({
  imports: [UltravoxModule],
  providers: [UltravoxAccountMonitor, UltravoxAccountChecksRepository, UltravoxWebhookRegistrar, Clock],
  exports: [UltravoxAccountMonitor],
})
export class IntegrationsWorkerModule {}
