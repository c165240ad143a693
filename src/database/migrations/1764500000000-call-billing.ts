import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Billing from Ultravox (issue 15, point 3): each call's `billing_status` (Ultravox's `billingStatus`,
 * lowercased without its prefix; `pending` until call.billed, `unavailable` when Switchboard gave up)
 * and `billed_duration_seconds`, plus when an ended call still `pending` is next read back from
 * Ultravox and how many times it was.
 */
export class CallBilling1764500000000 implements MigrationInterface {
  name = 'CallBilling1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE calls ADD COLUMN billing_status text`);
    await q.query(`ALTER TABLE calls ADD COLUMN billed_duration_seconds integer`);
    await q.query(`ALTER TABLE calls ADD COLUMN billing_check_at timestamptz`);
    await q.query(`ALTER TABLE calls ADD COLUMN billing_checks integer`);
    // The billing reconciler's pass: ended calls still waiting for call.billed, a small set.
    await q.query(
      `CREATE INDEX calls_billing_pending_idx ON calls (coalesce(billing_check_at, ended_at, updated_at))
        WHERE billing_status = 'pending'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX calls_billing_pending_idx`);
    await q.query(`ALTER TABLE calls DROP COLUMN billing_checks`);
    await q.query(`ALTER TABLE calls DROP COLUMN billing_check_at`);
    await q.query(`ALTER TABLE calls DROP COLUMN billed_duration_seconds`);
    await q.query(`ALTER TABLE calls DROP COLUMN billing_status`);
  }
}
