import { Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import type { CallEventJob } from '../../common/queues';
import type { AppConfig } from '../../config/app-config';
import type { AgencySecrets } from '../../agencies/agency-secrets';
import { secretDigest } from '../../agencies/agency-secrets';
import { IngestRequest, IngestService } from './ingest.service';
import type { UltravoxEventInput, UltravoxEventsRepository } from './ultravox-events.repository';

const agencyId = randomUUID();

/** The events repository as a set of keys: a new (agency, call, event) gets the next id, a copy null. */
function fakeEvents() {
  const stored = new Map<string, string>();
  const store = jest.fn(async (e: UltravoxEventInput) => {
    const key = `${e.agencyId}/${e.callId}/${e.event}`;
    if (stored.has(key)) return null;
    stored.set(key, String(100 + stored.size));
    return stored.get(key)!;
  });
  return { repository: { store } as unknown as UltravoxEventsRepository, store, stored };
}

const secrets = {
  ingestSecrets: async () => ({
    cached: true,
    secrets: { agencyId, ingestSecretDigest: secretDigest('url-secret'), signingSecret: null },
  }),
} as unknown as AgencySecrets;

const webhook = (event: string, callId: string): IngestRequest => {
  const body = { event, call: { callId } };
  return { agencyId, secret: 'url-secret', body, rawBody: Buffer.from(JSON.stringify(body)) };
};

const nextTurns = async () => {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('IngestService storing and queueing', () => {
  let events: ReturnType<typeof fakeEvents>;
  let addBulk: jest.Mock;
  let service: IngestService;

  beforeEach(() => {
    events = fakeEvents();
    addBulk = jest.fn(async (jobs: unknown[]) => jobs);
    const queue = { addBulk } as unknown as Queue<CallEventJob>;
    service = new IngestService(events.repository, queue, secrets, {
      timeouts: { redisMs: 2_000 },
    } as AppConfig);
  });
  afterEach(() => jest.restoreAllMocks());

  it('stores each event with its raw body, and queues the stored ones of one turn in one addBulk', async () => {
    await Promise.all([
      service.ingest(webhook('call.started', 'a')),
      service.ingest(webhook('call.started', 'b')),
      service.ingest(webhook('call.started', 'a')),
      service.ingest(webhook('call.ended', 'a')),
    ]);
    expect(events.store).toHaveBeenCalledWith({
      agencyId,
      callId: 'a',
      event: 'call.started',
      payload: JSON.stringify({ event: 'call.started', call: { callId: 'a' } }),
    });
    await nextTurns();
    expect(addBulk).toHaveBeenCalledTimes(1);
    const [jobs] = addBulk.mock.calls[0] as [{ data: CallEventJob; opts: { jobId: string } }[]];
    expect(jobs.map((j) => [j.data.eventId, j.opts.jobId])).toEqual([
      ['100', 'event-100'],
      ['101', 'event-101'],
      ['102', 'event-102'],
    ]);
  });

  it('queues nothing for a duplicate', async () => {
    await service.ingest(webhook('call.started', 'a'));
    await nextTurns();
    addBulk.mockClear();
    await service.ingest(webhook('call.started', 'a'));
    await nextTurns();
    expect(addBulk).not.toHaveBeenCalled();
  });

  it('ignores an event Switchboard does not use: nothing stored or queued', async () => {
    await service.ingest(webhook('call.something', 'a'));
    await nextTurns();
    expect(events.store).not.toHaveBeenCalled();
    expect(addBulk).not.toHaveBeenCalled();
  });

  it('answers even when the event cannot be queued (the sweeper queues it later), and logs it', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    addBulk.mockRejectedValue(new Error('redis down'));
    await expect(service.ingest(webhook('call.started', 'a'))).resolves.toBeUndefined();
    await nextTurns();
    expect(warn).toHaveBeenCalledWith(expect.objectContaining({ eventId: '100', err: 'redis down' }));
  });

  it('answers 404, as for any unknown agency, when the agency was deleted after its secrets were cached', async () => {
    events.store.mockRejectedValue(
      Object.assign(new Error('violates foreign key constraint'), { code: '23503' }),
    );
    await expect(service.ingest(webhook('call.started', 'a'))).rejects.toMatchObject({
      status: 404,
      code: 'not_found',
    });
  });
});
