import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Agents checked against Ultravox (issue 13, point 5): what the last look at the Ultravox agent found
 * (`ultravox_check`: verified, unverified, key_rejected, not_checked), when it last succeeded, and the
 * variables its `callTemplate.contextSchema` declares (null: it declares none, so every key is sent).
 */
export class AgentUltravoxCheck1764200000000 implements MigrationInterface {
  name = 'AgentUltravoxCheck1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE agents ADD COLUMN ultravox_check text NOT NULL DEFAULT 'not_checked'
         CHECK (ultravox_check IN ('verified', 'unverified', 'key_rejected', 'not_checked'))`,
    );
    await q.query(`ALTER TABLE agents ADD COLUMN ultravox_checked_at timestamptz`);
    await q.query(`ALTER TABLE agents ADD COLUMN context_variables text[]`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE agents DROP COLUMN context_variables`);
    await q.query(`ALTER TABLE agents DROP COLUMN ultravox_checked_at`);
    await q.query(`ALTER TABLE agents DROP COLUMN ultravox_check`);
  }
}
