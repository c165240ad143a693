import { MigrationInterface, QueryRunner } from 'typeorm';

export class Calls1763920000000 implements MigrationInterface {
  name = 'Calls1763920000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE calls (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        agency_id uuid NOT NULL REFERENCES agencies(id) ON DELETE CASCADE,
        agent_id uuid REFERENCES agents(id) ON DELETE SET NULL,
        campaign_id uuid,
        direction text NOT NULL DEFAULT 'outbound' CHECK (direction IN ('outbound', 'inbound')),
        status text NOT NULL CHECK (status IN ('queued', 'scheduled', 'dialing', 'in_progress', 'completed', 'failed', 'canceled')),
        failure_reason text,
        phone_number text,
        name text,
        email text,
        -- json, not jsonb: handed back exactly as the client gave it (key order included).
        metadata json,
        ultravox_call_id text,
        scheduled_for timestamptz,
        dial_attempts integer NOT NULL DEFAULT 0,
        dialed_at timestamptz,
        started_at timestamptz,
        ended_at timestamptz,
        duration_seconds integer,
        end_reason text,
        summary text,
        short_summary text,
        sentiment text,
        transcript jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX calls_agency_created_idx ON calls (agency_id, created_at DESC, id DESC)`);
    // Per agency: two agencies may share one Ultravox account, and then both receive its webhooks.
    await q.query(
      `CREATE UNIQUE INDEX calls_ultravox_call_key ON calls (agency_id, ultravox_call_id) WHERE ultravox_call_id IS NOT NULL`,
    );
    // Live calls per agency: the concurrency cap counts these.
    await q.query(
      `CREATE INDEX calls_live_idx ON calls (agency_id) WHERE status IN ('dialing', 'in_progress')`,
    );
    // What the dial sweeper looks for: calls that should be dialing by now.
    await q.query(
      `CREATE INDEX calls_due_idx ON calls (scheduled_for) WHERE status IN ('queued', 'scheduled')`,
    );
    await q.query(`
      CREATE TABLE call_events (
        id bigserial PRIMARY KEY,
        agency_id uuid NOT NULL REFERENCES agencies(id) ON DELETE CASCADE,
        call_id uuid REFERENCES calls(id) ON DELETE CASCADE,
        ultravox_call_id text,
        -- Ultravox events (call.started, call.joined, call.ended, call.billed) and our own (queued, dialing, ...).
        source text NOT NULL CHECK (source IN ('ultravox', 'switchboard')),
        event text NOT NULL,
        -- The raw Ultravox webhook body, as received.
        payload text,
        detail text,
        processed_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    // CONTRACT §5.2: the same (callId, event) delivered twice changes nothing the second time.
    await q.query(
      `CREATE UNIQUE INDEX call_events_ultravox_once ON call_events (agency_id, ultravox_call_id, event) WHERE source = 'ultravox'`,
    );
    await q.query(`CREATE INDEX call_events_call_idx ON call_events (call_id, id)`);
    await q.query(
      `CREATE INDEX call_events_unprocessed_idx ON call_events (created_at) WHERE processed_at IS NULL AND source = 'ultravox'`,
    );
    await q.query(`
      CREATE TABLE idempotency_keys (
        agency_id uuid NOT NULL REFERENCES agencies(id) ON DELETE CASCADE,
        key text NOT NULL,
        request_hash text NOT NULL,
        status_code integer,
        response text,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (agency_id, key)
      )`);
    await q.query(`CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE idempotency_keys`);
    await q.query(`DROP TABLE call_events`);
    await q.query(`DROP TABLE calls`);
  }
}
