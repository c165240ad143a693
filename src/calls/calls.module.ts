import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Agency } from '../agencies/agency.entity';
import { Agent } from '../agents/agent.entity';
import { Clock } from '../common/clock';
import { QUEUES } from '../common/queues';
import { DncModule } from '../dnc/dnc.module';
import { UltravoxModule } from '../ultravox/ultravox.module';
import { WebhookOutboxModule } from '../webhooks/webhooks.module';
import { Call, CallEvent } from './call.entity';
import { CallQueriesService } from './call-queries.service';
import { CallsController } from './calls.controller';
import { CallsService } from './calls.service';
import { CallsSweeper } from './calls-sweeper';
import { DialProcessor } from './dial/dial.processor';
import { DialService } from './dial/dial.service';
import { IdempotencyService } from './idempotency.service';
import { IngestController } from './ingest/ingest.controller';
import { IngestService } from './ingest/ingest.service';
import { CallEventsProcessor } from './lifecycle/call-events.processor';
import { CallLifecycleService } from './lifecycle/call-lifecycle.service';
import { CallTransitions } from './lifecycle/call-transitions.service';

/** What both roles share: entities, queues, the clock and the enqueue side. */
@Module({
  imports: [
    TypeOrmModule.forFeature([Call, CallEvent, Agency, Agent]),
    BullModule.registerQueue({ name: QUEUES.callDial }, { name: QUEUES.callEvents }),
    WebhookOutboxModule,
    UltravoxModule,
    DncModule,
  ],
  providers: [Clock, CallsService, CallTransitions],
  exports: [
    Clock,
    CallsService,
    CallTransitions,
    TypeOrmModule,
    BullModule,
    WebhookOutboxModule,
    UltravoxModule,
    DncModule,
  ],
})
export class CallsCoreModule {}

/** The HTTP side: trigger-call, Ultravox ingest, calls API. */
@Module({
  imports: [CallsCoreModule],
  controllers: [CallsController, IngestController],
  providers: [CallQueriesService, IdempotencyService, IngestService],
})
export class CallsModule {}

/** The worker side: dialing, following calls through their webhooks, and the sweeper. */
@Module({
  imports: [CallsCoreModule],
  providers: [DialService, DialProcessor, CallLifecycleService, CallEventsProcessor, CallsSweeper],
  exports: [DialService, CallsSweeper],
})
export class CallsWorkerModule {}
