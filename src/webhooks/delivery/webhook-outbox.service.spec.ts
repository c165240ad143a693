import type { Queue } from 'bullmq';
import type { DeliverJob } from '../../common/queues';
import type { AppConfig } from '../../config/app-config';
import type { Tx } from '../../database/sql';
import type { Transactions } from '../../database/transactions';
import type { NewEvent, WebhookEventsRepository } from './webhook-events.repository';
import type { DeliveryRef, EndpointGate } from './endpoint-gate.repository';
import { WebhookOutbox } from './webhook-outbox.service';

const TX = { name: 'the caller transaction' } as unknown as Tx;

/** The outbox over stubbed transactions, event repository and queue. */
function setUp() {
  const log: string[] = [];
  const transactions = {
    run: async <T>(work: (tx: Tx) => Promise<T>): Promise<T> => {
      log.push('begin');
      const result = await work(TX);
      log.push('commit');
      return result;
    },
  };
  let next = 0;
  const recordedIn: unknown[] = [];
  const events = {
    record: (tx: Tx, event: NewEvent) => {
      recordedIn.push(tx);
      log.push(`record ${event.type}`);
      return Promise.resolve({
        eventId: event.id,
        deliveries: [{ deliveryId: `d-${++next}`, endpointId: 'e-1' }],
      });
    },
    recordOnItsOwn: (event: NewEvent) => {
      log.push(`record alone ${event.type}`);
      return Promise.resolve({
        eventId: event.id,
        deliveries: [{ deliveryId: `d-${++next}`, endpointId: 'e-1' }],
      });
    },
  };
  const queue = {
    addBulk: (jobs: { data: DeliverJob }[]) => {
      log.push(`enqueue ${jobs.map((job) => job.data.deliveryId).join(',')}`);
      return Promise.resolve([]);
    },
  };
  const config = {
    webhooks: { retryDelaysMs: [1, 2, 3] },
    timeouts: { redisMs: 2_000 },
  } as unknown as AppConfig;
  // Every endpoint has room: the gate lets each delivery run.
  const gate = {
    admit: (deliveries: DeliveryRef[]) => Promise.resolve({ run: deliveries, probes: [] }),
    reservedAmong: () => Promise.resolve([]),
  };
  const outbox = new WebhookOutbox(
    config,
    transactions as unknown as Transactions,
    events as unknown as WebhookEventsRepository,
    gate as unknown as EndpointGate,
    queue as unknown as Queue<DeliverJob>,
  );
  return { outbox, log, recordedIn };
}

describe('WebhookOutbox', () => {
  it('records events in the caller transaction and queues their deliveries only after it commits', async () => {
    const { outbox, log, recordedIn } = setUp();
    const result = await outbox.transaction(async (tx, emit) => {
      await emit('a-1', 'call.started', { call_id: 'c-1' });
      await emit('a-1', 'call.completed', { call_id: 'c-1' });
      return tx;
    });
    expect(result).toBe(TX);
    expect(recordedIn).toEqual([TX, TX]);
    expect(log).toEqual([
      'begin',
      'record call.started',
      'record call.completed',
      'commit',
      'enqueue d-1,d-2',
    ]);
  });

  it('queues nothing when the unit of work fails', async () => {
    const { outbox, log } = setUp();
    await expect(
      outbox.transaction(async (_tx, emit) => {
        await emit('a-1', 'call.failed', { call_id: 'c-1' });
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(log).toEqual(['begin', 'record call.failed']);
  });

  it('emits an event on its own: recorded, then queued', async () => {
    const { outbox, log } = setUp();
    const event = await outbox.emit('a-1', 'webhook.test', { webhook_id: 'e-1' }, 'e-1');
    expect(event).toEqual({
      eventId: expect.stringMatching(/^evt_/) as string,
      deliveries: [{ deliveryId: 'd-1', endpointId: 'e-1' }],
    });
    expect(log).toEqual(['record alone webhook.test', 'enqueue d-1']);
  });
});
