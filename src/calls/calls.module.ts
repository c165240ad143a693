import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { AgentsDataModule } from '../agents/agents-data.module';
import { Clock } from '../common/clock';
import { QUEUES } from '../common/queues';
import { DncModule } from '../dnc/dnc.module';
import { UltravoxModule } from '../ultravox/ultravox.module';
import { WebhookOutboxModule } from '../webhooks/webhooks.module';
import { CallQueriesService } from './call-queries.service';
import { CallsController } from './calls.controller';
import { CallsRepository } from './calls.repository';
import { CallsService } from './calls.service';
import { CallsSweeper } from './calls-sweeper';
import { DialProcessor } from './dial/dial.processor';
import { DialService } from './dial/dial.service';
import { IdempotencyRepository } from './idempotency.repository';
import { IdempotencyService } from './idempotency.service';
import { IngestController } from './ingest/ingest.controller';
import { IngestService } from './ingest/ingest.service';
import { UltravoxEventsRepository } from './ingest/ultravox-events.repository';
import { CallEventsProcessor } from './lifecycle/call-events.processor';
import { CallLifecycleService } from './lifecycle/call-lifecycle.service';
import { BillingReconciler } from './lifecycle/billing-reconciler';
import { CallReconciler } from './lifecycle/call-reconciler';
import { CallTransitionsRepository } from './lifecycle/call-transitions.repository';
import { CallTransitions } from './lifecycle/call-transitions.service';
import { RecordingLinks } from './recordings/recording-links';
import { RecordingsController } from './recordings/recordings.controller';
import { RecordingsService } from './recordings/recordings.service';
import { TriggerLookupsRepository } from './trigger-lookups.repository';

/**
 * What both roles share: the calls' repositories, their one status owner (CallTransitions), queues,
 * the clock and the enqueue side.
 */
@Module({
  imports: [
    BullModule.registerQueue({ name: QUEUES.callDial }, { name: QUEUES.callEvents }),
    WebhookOutboxModule,
    UltravoxModule,
    DncModule,
  ],
  providers: [
    Clock,
    CallsRepository,
    CallTransitionsRepository,
    TriggerLookupsRepository,
    UltravoxEventsRepository,
    CallsService,
    CallTransitions,
    RecordingLinks,
  ],
  exports: [
    RecordingLinks,
    Clock,
    CallsRepository,
    UltravoxEventsRepository,
    CallsService,
    CallTransitions,
    BullModule,
    WebhookOutboxModule,
    UltravoxModule,
    DncModule,
  ],
})
export class CallsCoreModule {}

/** The HTTP side: trigger-call, Ultravox ingest, calls API, recordings. */
@Module({
  imports: [CallsCoreModule],
  controllers: [CallsController, IngestController, RecordingsController],
  providers: [
    CallQueriesService,
    IdempotencyRepository,
    IdempotencyService,
    IngestService,
    RecordingsService,
  ],
})
export class CallsModule {}

/**
 * The worker side: dialing, following calls through their webhooks, the sweeper, and reconciliation
 * with Ultravox for calls whose webhooks were lost.
 */
@Module({
  imports: [CallsCoreModule, AgentsDataModule],
  providers: [
    DialService,
    DialProcessor,
    CallLifecycleService,
    CallEventsProcessor,
    CallsSweeper,
    CallReconciler,
    BillingReconciler,
  ],
  exports: [DialService, CallsSweeper, CallReconciler, BillingReconciler],
})
export class CallsWorkerModule {}
