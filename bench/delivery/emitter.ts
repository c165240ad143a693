/**
 * The emitting side: a Nest application context with APP_ROLE=api (no HTTP listener) that emits
 * through the real transactional outbox, and a plain BullMQ producer for the reference queue.
 */
import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import { randomBytes, randomUUID } from 'node:crypto';
import { AgenciesService } from '../../src/agencies/agencies.service';
import { AppModule } from '../../src/app.module';
import { QUEUES } from '../../src/common/queues';
import { buildAppConfig } from '../../src/config/app-config';
import { WebhookEndpointsService } from '../../src/webhooks/endpoints/webhook-endpoints.service';
import { newEventId, WebhookOutbox } from '../../src/webhooks/delivery/webhook-outbox.service';
import type { BenchWorld } from '../common/world';
import type { ReferenceJob } from './protocol';

const EVENT = 'call.completed';

/** A complete call.completed (CONTRACT §6), plus what the receiver needs to measure: phase, seq, time. */
export function eventFields(phase: string, seq: number, sentAtNs: bigint): Record<string, unknown> {
  const ended = new Date();
  const started = new Date(ended.getTime() - 94_000);
  return {
    bench_phase: phase,
    seq,
    sent_at_ns: sentAtNs.toString(),
    call_id: randomUUID(),
    agent_id: '5a1c3e0e-8a59-4a57-9c2e-3f0a3b6d2c11',
    agent_name: 'Front desk',
    direction: 'outbound',
    phone_number: '+14155550123',
    name: 'Ada Lovelace',
    email: 'ada@example.com',
    duration_seconds: 94,
    started_at: started.toISOString(),
    ended_at: ended.toISOString(),
    sentiment: 'positive',
    summary: 'The caller confirmed Tuesday 10:00 and asked for a reminder text the day before.',
    transcript: [
      {
        role: 'agent',
        content: 'Hello, this is the front desk of Bright Smiles. How can I help?',
        timestamp: 0.4,
      },
      { role: 'human', content: 'Hi, I would like to confirm my appointment for next week.', timestamp: 3.1 },
      {
        role: 'agent',
        content: 'Of course. I see you on Tuesday at ten. Does that still work?',
        timestamp: 6.8,
      },
      {
        role: 'human',
        content: 'Yes, perfect. Could you text me a reminder the day before?',
        timestamp: 10.2,
      },
      { role: 'agent', content: 'Done: you will get a text on Monday. Anything else?', timestamp: 13.9 },
      { role: 'human', content: 'No, that is all. Thank you!', timestamp: 16.0 },
    ],
    metadata: { crm_id: 'C-20931', source: 'bench' },
    campaign_id: null,
  };
}

/** The body the outbox would store for these fields (its shape, for the reference worker). */
export function referenceBody(eventId: string, fields: Record<string, unknown>): string {
  return JSON.stringify({ event: EVENT, event_id: eventId, timestamp: new Date().toISOString(), ...fields });
}

export type EmitOne = (phase: string, seq: number) => Promise<void>;

export interface EmitRun {
  startNs: bigint;
  endNs: bigint;
  errors: number;
  firstError: string | null;
  /** Open loop only: the most an emit started behind its schedule, in ms. */
  maxLagMs: number;
}

/** Closed loop: `parallel` emitters, each starting the next seq as soon as its last emit returned. */
export async function emitClosedLoop(emit: EmitOne, phase: string, count: number, parallel: number) {
  const run: EmitRun = {
    startNs: process.hrtime.bigint(),
    endNs: 0n,
    errors: 0,
    firstError: null,
    maxLagMs: 0,
  };
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const seq = next++;
      await emit(phase, seq).catch((err: Error) => {
        run.errors++;
        run.firstError ??= err.message;
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, lane));
  run.endNs = process.hrtime.bigint();
  return run;
}

/** Open loop: emit seq i at start + i/rate whatever the previous emits are doing (no coordinated omission). */
export async function emitOpenLoop(emit: EmitOne, phase: string, count: number, rate: number) {
  const run: EmitRun = {
    startNs: process.hrtime.bigint(),
    endNs: 0n,
    errors: 0,
    firstError: null,
    maxLagMs: 0,
  };
  const inFlight: Promise<void>[] = [];
  const intervalNs = 1e9 / rate;
  let seq = 0;
  while (seq < count) {
    const now = process.hrtime.bigint();
    while (seq < count && Number(now - run.startNs) >= seq * intervalNs) {
      run.maxLagMs = Math.max(run.maxLagMs, (Number(now - run.startNs) - seq * intervalNs) / 1e6);
      inFlight.push(
        emit(phase, seq++).catch((err: Error) => {
          run.errors++;
          run.firstError ??= err.message;
        }),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(inFlight);
  run.endNs = process.hrtime.bigint();
  return run;
}

function expectOneDelivery(deliveries: unknown[]): void {
  if (deliveries.length !== 1) throw new Error(`expected 1 delivery, got ${deliveries.length}`);
}

export class Emitter {
  private agencyId = '';

  private constructor(
    private readonly app: INestApplicationContext,
    private readonly reference: Queue<ReferenceJob>,
  ) {}

  static async start(world: BenchWorld, referenceQueue: string): Promise<Emitter> {
    // The emitter's environment is this process's, as a spawned app's would be.
    Object.assign(process.env, world.env, { APP_ROLE: 'api' });
    const config = buildAppConfig(process.env);
    const app = await NestFactory.createApplicationContext(AppModule.forRoot(config), {
      logger: ['error', 'warn'],
      abortOnError: false,
    });
    await app.init();
    const reference = new Queue<ReferenceJob>(referenceQueue, {
      connection: { url: world.env.REDIS_URL },
      prefix: `${world.redisPrefix}:ref`,
    });
    return new Emitter(app, reference);
  }

  /** An agency with one endpoint subscribed to call.completed; returns the endpoint's whsec_ secret. */
  async createEndpoint(url: string): Promise<string> {
    const suffix = randomBytes(4).toString('hex');
    const { agency } = await this.app
      .get(AgenciesService)
      .createAgency('Bench agency', `bench-${suffix}@agency.test`);
    this.agencyId = agency.id;
    const endpoint = await this.app.get(WebhookEndpointsService).create(agency.id, { url, events: [EVENT] });
    return endpoint.secret;
  }

  /** One event through the real outbox, emitted on its own (`WebhookOutbox.emit`), queued after commit. */
  readonly emitThroughOutbox: EmitOne = async (phase, seq) => {
    const sentAtNs = process.hrtime.bigint();
    const event = await this.app
      .get(WebhookOutbox)
      .emit(this.agencyId, EVENT, eventFields(phase, seq, sentAtNs));
    expectOneDelivery(event.deliveries);
  };

  /** The same inside a caller's transaction (`--in-transaction`), as the call lifecycle emits. */
  readonly emitInTransaction: EmitOne = async (phase, seq) => {
    const sentAtNs = process.hrtime.bigint();
    const event = await this.app
      .get(WebhookOutbox)
      .transaction((_em, emit) => emit(this.agencyId, EVENT, eventFields(phase, seq, sentAtNs)));
    expectOneDelivery(event.deliveries);
  };

  /** One job on the reference queue, with the options the outbox gives its jobs. */
  readonly emitReference: EmitOne = async (phase, seq) => {
    const sentAtNs = process.hrtime.bigint();
    const eventId = newEventId();
    await this.reference.add(
      'deliver',
      { eventId, body: referenceBody(eventId, eventFields(phase, seq, sentAtNs)) },
      {
        jobId: eventId,
        ...this.app.get(WebhookOutbox).jobOptions(eventId),
        backoff: { type: 'fixed', delay: 1000 },
      },
    );
  };

  private get deliveryQueue(): Queue {
    return this.app.get<Queue>(getQueueToken(QUEUES.webhookDelivery));
  }

  /** Workers connected to the Switchboard delivery queue (BullMQ lists them by Redis client name). */
  async deliveryWorkers(): Promise<number> {
    return (await this.deliveryQueue.getWorkers()).length;
  }

  /**
   * Runs `emit` with the delivery queue paused (the worker stays up and warm but takes no job), then
   * resumes it: the receipts that follow measure the worker draining a backlog, with no emitter running.
   */
  async whilePaused(emit: () => Promise<EmitRun>): Promise<EmitRun> {
    await this.deliveryQueue.pause();
    try {
      return await emit();
    } finally {
      await this.deliveryQueue.resume();
    }
  }

  async close(): Promise<void> {
    await this.reference.close();
    await this.app.close();
  }
}
