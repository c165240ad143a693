import { MigrationInterface, QueryRunner } from 'typeorm';

export class Foundation1763900000000 implements MigrationInterface {
  name = 'Foundation1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE agencies (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        -- AES-256-GCM ciphertexts (common/crypto/secret-box.ts); never the plaintext.
        ultravox_api_key_encrypted text,
        ultravox_api_key_added_at timestamptz,
        ultravox_api_key_validated_at timestamptz,
        ultravox_webhook_id text,
        ultravox_signing_secret_encrypted text,
        ingest_secret_encrypted text NOT NULL,
        api_enabled boolean NOT NULL DEFAULT true,
        api_webhook_url text,
        default_agent_id uuid,
        calling_window jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        agency_id uuid NOT NULL REFERENCES agencies(id) ON DELETE CASCADE,
        email text NOT NULL,
        role text NOT NULL CHECK (role IN ('agency_owner', 'agency_admin', 'agency_member')),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX users_email_key ON users (lower(email))`);
    await q.query(`CREATE INDEX users_agency_idx ON users (agency_id)`);
    await q.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        agency_id uuid NOT NULL REFERENCES agencies(id) ON DELETE CASCADE,
        prefix text NOT NULL,
        last4 text NOT NULL,
        -- SHA-256 of the key: how requests are authenticated.
        key_hash text NOT NULL,
        -- The key itself, encrypted: CONTRACT §6 signs the integration-page webhook with it (X-Signature).
        key_encrypted text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
      )`);
    await q.query(`CREATE UNIQUE INDEX api_keys_hash_key ON api_keys (key_hash)`);
    await q.query(`CREATE UNIQUE INDEX api_keys_one_active ON api_keys (agency_id) WHERE revoked_at IS NULL`);
    await q.query(`
      CREATE TABLE agents (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        agency_id uuid NOT NULL REFERENCES agencies(id) ON DELETE CASCADE,
        name text NOT NULL,
        ultravox_agent_id text NOT NULL,
        phone_number text,
        telephony_provider text NOT NULL DEFAULT 'twilio' CHECK (telephony_provider IN ('twilio', 'telnyx', 'plivo')),
        calling_window jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX agents_agency_created_idx ON agents (agency_id, created_at DESC, id DESC)`);
    await q.query(`
      ALTER TABLE agencies ADD CONSTRAINT agencies_default_agent_fk
        FOREIGN KEY (default_agent_id) REFERENCES agents(id) ON DELETE SET NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE agencies DROP CONSTRAINT agencies_default_agent_fk`);
    await q.query(`DROP TABLE agents`);
    await q.query(`DROP TABLE api_keys`);
    await q.query(`DROP TABLE users`);
    await q.query(`DROP TABLE agencies`);
  }
}
