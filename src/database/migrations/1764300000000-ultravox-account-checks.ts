import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the workers' periodic check of each agency's Ultravox account found (issue 13, points 2 and 6):
 * the account's concurrent-call limit (the agency's live-call cap is the smaller of it and
 * MAX_CONCURRENT_CALLS_PER_AGENCY), the registered webhook's status as Ultravox reports it (or
 * `missing`), when it was registered again, why the last check could not ask Ultravox, a rejected key
 * (checks stop until the key is saved again) and when the agency is next due.
 */
export class UltravoxAccountChecks1764300000000 implements MigrationInterface {
  name = 'UltravoxAccountChecks1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE agencies
      ADD COLUMN ultravox_allowed_concurrent_calls integer,
      ADD COLUMN ultravox_account_checked_at timestamptz,
      ADD COLUMN ultravox_webhook_status text,
      ADD COLUMN ultravox_webhook_status_changed_at timestamptz,
      ADD COLUMN ultravox_webhook_recent_failures jsonb,
      ADD COLUMN ultravox_webhook_checked_at timestamptz,
      ADD COLUMN ultravox_webhook_reregistered_at timestamptz,
      ADD COLUMN ultravox_check_problem text,
      ADD COLUMN ultravox_key_rejected_at timestamptz,
      ADD COLUMN ultravox_next_check_at timestamptz`);
    // The check's pass: agencies with a usable key, the most overdue first (never checked = due now).
    await q.query(
      `CREATE INDEX agencies_ultravox_check_idx ON agencies (ultravox_next_check_at NULLS FIRST)
        WHERE ultravox_api_key_encrypted IS NOT NULL AND ultravox_key_rejected_at IS NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX agencies_ultravox_check_idx`);
    await q.query(`ALTER TABLE agencies
      DROP COLUMN ultravox_allowed_concurrent_calls,
      DROP COLUMN ultravox_account_checked_at,
      DROP COLUMN ultravox_webhook_status,
      DROP COLUMN ultravox_webhook_status_changed_at,
      DROP COLUMN ultravox_webhook_recent_failures,
      DROP COLUMN ultravox_webhook_checked_at,
      DROP COLUMN ultravox_webhook_reregistered_at,
      DROP COLUMN ultravox_check_problem,
      DROP COLUMN ultravox_key_rejected_at,
      DROP COLUMN ultravox_next_check_at`);
  }
}
