import { RetentionTask } from '../src/retention/retention.task';
import { createAgency } from './support/fixtures';
import { startTestApp, TestApp } from './support/test-app';

/*
 * The retention job (CONTRACT §2 RETENTION_DAYS): idempotency keys after 24 h; processed Ultravox
 * payloads, outbox events with no delivery pending, and settled deliveries' attempts after
 * RETENTION_DAYS. Rows are backdated in Postgres; the job's timer is pushed out of the way and a pass
 * is run by hand.
 */
describe('retention', () => {
  let t: TestApp;
  let agencyId: string;
  let endpointId: string;

  beforeAll(async () => {
    t = await startTestApp({ RETENTION_DAYS: '30', RETENTION_INTERVAL_MS: '3600000' });
    agencyId = (await createAgency(t)).agencyId;
    endpointId = (
      await t.db.query<{ id: string }>(
        `INSERT INTO webhook_endpoints (agency_id, url, events, secret_encrypted)
         VALUES ($1, 'https://receiver.test/hook', '{call.completed}', 'x') RETURNING id`,
        [agencyId],
      )
    ).rows[0].id;
  });
  afterAll(async () => {
    await t.close();
  });

  const ago = (days: number) => new Date(Date.now() - days * 86_400_000);

  async function idempotencyKey(key: string, createdAt: Date): Promise<void> {
    await t.db.query(
      `INSERT INTO idempotency_keys (agency_id, key, request_hash, status_code, response, created_at)
       VALUES ($1, $2, 'hash', 200, '{}', $3)`,
      [agencyId, key, createdAt],
    );
  }

  async function ultravoxEvent(event: string, createdAt: Date, processed: boolean): Promise<string> {
    const { rows } = await t.db.query<{ id: string }>(
      `INSERT INTO call_events (agency_id, ultravox_call_id, source, event, payload, processed_at, created_at)
       VALUES ($1, $2, 'ultravox', $3, '{"event":"x"}', $4, $5) RETURNING id`,
      [agencyId, `uv-${event}`, event, processed ? createdAt : null, createdAt],
    );
    return rows[0].id;
  }

  /** An outbox event with one delivery in `status` and one attempt at `attemptAt`. */
  async function outboxEvent(
    id: string,
    createdAt: Date,
    status: 'pending' | 'succeeded' | 'failed',
    attemptAt = createdAt,
  ): Promise<string> {
    await t.db.query(
      `INSERT INTO webhook_events (id, agency_id, type, payload, created_at) VALUES ($1, $2, 'call.completed', '{}', $3)`,
      [id, agencyId, createdAt],
    );
    const { rows } = await t.db.query<{ id: string }>(
      `INSERT INTO webhook_deliveries (agency_id, endpoint_id, event_id, event_type, status, attempt_count, created_at, failed_at)
       VALUES ($1, $2, $3, 'call.completed', $4, 1, $5, CASE WHEN $4 = 'failed' THEN $5::timestamptz END) RETURNING id`,
      [agencyId, endpointId, id, status, createdAt],
    );
    await t.db.query(
      `INSERT INTO webhook_delivery_attempts (delivery_id, attempt, at, status_code, duration_ms)
       VALUES ($1, 1, $2, 500, 12)`,
      [rows[0].id, attemptAt],
    );
    return rows[0].id;
  }

  const count = async (sql: string, values: unknown[]) =>
    Number((await t.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${sql}`, values)).rows[0].n);

  it('deletes what is past its use and keeps recent rows and rows still in use', async () => {
    await idempotencyKey('old', ago(1.1));
    await idempotencyKey('recent', ago(0.5));
    const oldProcessed = await ultravoxEvent('call.ended', ago(31), true);
    const oldUnprocessed = await ultravoxEvent('call.started', ago(31), false);
    const recentProcessed = await ultravoxEvent('call.joined', ago(29), true);
    await outboxEvent('evt_old_done', ago(31), 'succeeded');
    await outboxEvent('evt_old_pending', ago(31), 'pending');
    await outboxEvent('evt_recent', ago(29), 'failed');
    const recentWithOldAttempt = await outboxEvent('evt_recent_old_attempt', ago(1), 'failed', ago(31));

    await t.app.get(RetentionTask).sweep();

    const keys = await t.db.query<{ key: string }>(`SELECT key FROM idempotency_keys WHERE agency_id = $1`, [
      agencyId,
    ]);
    expect(keys.rows.map((r) => r.key)).toEqual(['recent']);

    const payloads = await t.db.query<{ id: string; payload: string | null }>(
      `SELECT id, payload FROM call_events WHERE agency_id = $1`,
      [agencyId],
    );
    const payloadOf = new Map(payloads.rows.map((r) => [String(r.id), r.payload]));
    expect(payloadOf.size).toBe(3);
    expect(payloadOf.get(String(oldProcessed))).toBeNull();
    expect(payloadOf.get(String(oldUnprocessed))).toBe('{"event":"x"}');
    expect(payloadOf.get(String(recentProcessed))).toBe('{"event":"x"}');

    const events = await t.db.query<{ id: string }>(`SELECT id FROM webhook_events ORDER BY id`);
    expect(events.rows.map((r) => r.id)).toEqual(['evt_old_pending', 'evt_recent', 'evt_recent_old_attempt']);
    expect(await count(`webhook_deliveries WHERE event_id = 'evt_old_done'`, [])).toBe(0);
    expect(await count(`webhook_delivery_attempts WHERE delivery_id = $1`, [recentWithOldAttempt])).toBe(0);
    const kept = await t.db.query<{ event_id: string }>(
      `SELECT d.event_id FROM webhook_delivery_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
        ORDER BY d.event_id`,
    );
    expect(kept.rows.map((r) => r.event_id)).toEqual(['evt_old_pending', 'evt_recent']);
  });
});
