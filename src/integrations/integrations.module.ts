import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Agency } from '../agencies/agency.entity';
import { Agent } from '../agents/agent.entity';
import { UltravoxModule } from '../ultravox/ultravox.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { ApiAccessController } from './api-access.controller';
import { ApiAccessService } from './api-access.service';
import { ApiKey } from './api-key.entity';
import { UltravoxIntegrationController } from './ultravox-integration.controller';
import { UltravoxIntegrationService } from './ultravox-integration.service';

@Module({
  imports: [TypeOrmModule.forFeature([Agency, ApiKey, Agent]), UltravoxModule, WebhooksModule],
  controllers: [UltravoxIntegrationController, ApiAccessController],
  providers: [UltravoxIntegrationService, ApiAccessService],
  exports: [UltravoxIntegrationService],
})
export class IntegrationsModule {}
