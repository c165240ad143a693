import { Module } from '@nestjs/common';
import { AgentsModule } from '../agents/agents.module';
import { API_KEY_LOOKUP } from '../auth/credentials';
import { UltravoxModule } from '../ultravox/ultravox.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { ApiAccessController } from './api-access.controller';
import { ApiAccessService } from './api-access.service';
import { ApiKeysRepository } from './api-keys.repository';
import { UltravoxIntegrationController } from './ultravox-integration.controller';
import { UltravoxIntegrationService } from './ultravox-integration.service';

@Module({
  imports: [UltravoxModule, WebhooksModule, AgentsModule],
  controllers: [UltravoxIntegrationController, ApiAccessController],
  providers: [
    UltravoxIntegrationService,
    ApiAccessService,
    ApiKeysRepository,
    { provide: API_KEY_LOOKUP, useExisting: ApiKeysRepository },
  ],
  exports: [UltravoxIntegrationService, API_KEY_LOOKUP],
})
export class IntegrationsModule {}
