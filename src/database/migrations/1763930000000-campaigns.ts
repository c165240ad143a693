import { MigrationInterface, QueryRunner } from 'typeorm';

export class Campaigns1763930000000 implements MigrationInterface {
  name = 'Campaigns1763930000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE campaigns (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        agency_id uuid NOT NULL REFERENCES agencies(id) ON DELETE CASCADE,
        name text NOT NULL,
        agent_id uuid REFERENCES agents(id) ON DELETE SET NULL,
        status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'running', 'paused', 'finished', 'canceled')),
        max_concurrency integer NOT NULL DEFAULT 5 CHECK (max_concurrency BETWEEN 1 AND 100),
        calling_window jsonb,
        retry_max_attempts integer NOT NULL DEFAULT 1,
        retry_on text[] NOT NULL DEFAULT '{}',
        retry_delay_ms bigint NOT NULL DEFAULT 0,
        started_at timestamptz,
        finished_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX campaigns_agency_idx ON campaigns (agency_id, created_at DESC, id DESC)`);
    await q.query(
      `CREATE INDEX campaigns_active_idx ON campaigns (status) WHERE status IN ('running', 'paused')`,
    );
    await q.query(`
      CREATE TABLE campaign_contacts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        campaign_id uuid NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
        agency_id uuid NOT NULL REFERENCES agencies(id) ON DELETE CASCADE,
        row_number integer NOT NULL,
        phone_number text NOT NULL,
        name text,
        email text,
        -- The import's other columns: the contact's metadata and template variables.
        variables jsonb NOT NULL DEFAULT '{}',
        status text NOT NULL DEFAULT 'pending'
          CHECK (status IN ('pending', 'in_progress', 'completed', 'failed', 'skipped', 'canceled')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        last_call_id uuid REFERENCES calls(id) ON DELETE SET NULL,
        last_outcome text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Duplicates within a campaign are dropped at import.
    await q.query(
      `CREATE UNIQUE INDEX campaign_contacts_phone_key ON campaign_contacts (campaign_id, phone_number)`,
    );
    // The contacts list: import order (earlier imports first, then by row), keyset-paginated.
    await q.query(
      `CREATE INDEX campaign_contacts_list_idx ON campaign_contacts (campaign_id, created_at, row_number, id)`,
    );
    // The dispatcher's pick: pending contacts due now, in import order.
    await q.query(
      `CREATE INDEX campaign_contacts_due_idx ON campaign_contacts (campaign_id, next_attempt_at, row_number) WHERE status = 'pending'`,
    );
    await q.query(
      `CREATE INDEX campaign_contacts_live_idx ON campaign_contacts (campaign_id) WHERE status = 'in_progress'`,
    );
    await q.query(`
      CREATE TABLE dnc_numbers (
        agency_id uuid NOT NULL REFERENCES agencies(id) ON DELETE CASCADE,
        phone_number text NOT NULL,
        reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (agency_id, phone_number)
      )`);
    await q.query(
      `CREATE INDEX dnc_numbers_list_idx ON dnc_numbers (agency_id, created_at DESC, phone_number DESC)`,
    );
    await q.query(
      `ALTER TABLE calls ADD CONSTRAINT calls_campaign_fk FOREIGN KEY (campaign_id) REFERENCES campaigns(id) ON DELETE SET NULL`,
    );
    await q.query(`CREATE INDEX calls_campaign_idx ON calls (campaign_id) WHERE campaign_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE calls DROP CONSTRAINT calls_campaign_fk`);
    await q.query(`DROP INDEX calls_campaign_idx`);
    await q.query(`DROP TABLE dnc_numbers`);
    await q.query(`DROP TABLE campaign_contacts`);
    await q.query(`DROP TABLE campaigns`);
  }
}
