import { Module } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AgentsDataModule } from '../agents/agents-data.module';
import { CallsCoreModule } from '../calls/calls.module';
import { DncModule } from '../dnc/dnc.module';
import { WebhookOutboxModule } from '../webhooks/webhooks.module';
import { Campaign, CampaignContact } from './campaign.entity';
import { CampaignDispatcher } from './campaign-dispatcher';
import { CampaignsController } from './campaigns.controller';
import { CampaignsRepository } from './campaigns.repository';
import { CampaignsService } from './campaigns.service';
import { ContactImportService } from './contacts/contact-import.service';
import { CampaignContactsController } from './contacts/contacts.controller';
import { ContactsRepository } from './contacts/contacts.repository';
import { CampaignContactsService } from './contacts/contacts.service';
import { registerContactsImportBody } from './contacts/contacts-import-body';

@Module({
  imports: [
    TypeOrmModule.forFeature([Campaign, CampaignContact]),
    AgentsDataModule,
    WebhookOutboxModule,
    CallsCoreModule,
  ],
  providers: [CampaignsRepository, ContactsRepository, CampaignsService],
  exports: [CampaignsRepository, ContactsRepository, CampaignsService],
})
export class CampaignsCoreModule {}

/** The HTTP side: campaigns, their state machine and their contacts. */
@Module({
  imports: [CampaignsCoreModule, DncModule],
  controllers: [CampaignsController, CampaignContactsController],
  providers: [ContactImportService, CampaignContactsService],
})
export class CampaignsModule {
  /** The CSV import's body parser, registered before the routes are (none in an application context). */
  constructor(adapterHost: HttpAdapterHost) {
    const fastify = adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (fastify) registerContactsImportBody(fastify);
  }
}

/** The worker side: the dispatcher that dials contacts and finishes campaigns. */
@Module({
  imports: [CampaignsCoreModule, CallsCoreModule],
  providers: [CampaignDispatcher],
  exports: [CampaignDispatcher],
})
export class CampaignsWorkerModule {}
