import { Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { CallEventJob } from '../../common/queues';
import type { AgencySecrets } from '../../agencies/agency-secrets';
import { secretDigest } from '../../agencies/agency-secrets';
import { IngestRequest, IngestService } from './ingest.service';

const agencyId = randomUUID();

/** call_events as a set of keys; each INSERT batch is recorded with its arguments. */
function fakeDatabase() {
  const stored = new Map<string, string>();
  const batches: string[][] = [];
  const query = jest.fn(async ({ values }: { values: [string[], string[], string[], string] }) => {
    const [agencies, callIds, events, payloads] = values;
    expect(JSON.parse(payloads)).toHaveLength(callIds.length);
    batches.push(callIds.map((callId, i) => `${callId}/${events[i]}`));
    const rows = callIds.flatMap((callId, i) => {
      const key = `${agencies[i]}/${callId}/${events[i]}`;
      if (stored.has(key)) return [];
      stored.set(key, String(100 + stored.size));
      return [{ id: stored.get(key), ord: String(i + 1) }];
    });
    return { rows: rows.reverse() };
  });
  const dataSource = {
    driver: {},
    createQueryRunner: () => ({ connect: async () => ({ query }), release: async () => undefined }),
  } as unknown as DataSource;
  return { dataSource, query, batches, stored };
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
  let db: ReturnType<typeof fakeDatabase>;
  let addBulk: jest.Mock;
  let service: IngestService;

  beforeEach(() => {
    db = fakeDatabase();
    addBulk = jest.fn(async (jobs: unknown[]) => jobs);
    const queue = { addBulk } as unknown as Queue<CallEventJob>;
    service = new IngestService(db.dataSource, queue, secrets);
  });
  afterEach(() => jest.restoreAllMocks());

  it('stores the events of one turn with one INSERT, copies of an event once, and queues each stored one once', async () => {
    await Promise.all([
      service.ingest(webhook('call.started', 'a')),
      service.ingest(webhook('call.started', 'b')),
      service.ingest(webhook('call.started', 'a')),
      service.ingest(webhook('call.ended', 'a')),
      service.ingest(webhook('call.started', 'b')),
    ]);
    expect(db.batches).toEqual([['a/call.started', 'b/call.started', 'a/call.ended']]);
    await nextTurns();
    expect(addBulk).toHaveBeenCalledTimes(1);
    const [jobs] = addBulk.mock.calls[0] as [{ data: CallEventJob; opts: { jobId: string } }[]];
    expect(jobs.map((j) => [j.data.eventId, j.opts.jobId])).toEqual([
      ['100', 'event-100'],
      ['101', 'event-101'],
      ['102', 'event-102'],
    ]);
  });

  it('maps each returned row to its own request, whatever order Postgres returns them in', async () => {
    await service.ingest(webhook('call.started', 'a'));
    await nextTurns();
    addBulk.mockClear();
    await Promise.all([
      service.ingest(webhook('call.started', 'a')),
      service.ingest(webhook('call.joined', 'a')),
      service.ingest(webhook('call.ended', 'a')),
    ]);
    await nextTurns();
    const [jobs] = addBulk.mock.calls[0] as [{ data: CallEventJob }[]];
    expect(jobs.map((j) => j.data.eventId)).toEqual(['101', '102']);
    expect(db.stored.get(`${agencyId}/a/call.joined`)).toBe('101');
    expect(db.stored.get(`${agencyId}/a/call.ended`)).toBe('102');
  });

  it('ignores an event Switchboard does not use: nothing stored or queued', async () => {
    await service.ingest(webhook('call.something', 'a'));
    await nextTurns();
    expect(db.batches).toEqual([]);
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
    db.query.mockRejectedValue(
      Object.assign(new Error('violates foreign key constraint'), { code: '23503' }),
    );
    await expect(service.ingest(webhook('call.started', 'a'))).rejects.toMatchObject({
      status: 404,
      code: 'not_found',
    });
  });
});
