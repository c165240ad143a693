import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Reconciliation with Ultravox (CONTRACT §6 lifecycle): when a live call is next read back from
 * Ultravox, how many times it has been found still live (the interval grows with each), and its
 * `maxDuration` as Ultravox last reported it (how long it may stay unreadable before it fails).
 */
export class CallReconciliation1764000000000 implements MigrationInterface {
  name = 'CallReconciliation1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE calls ADD COLUMN reconcile_at timestamptz`);
    await q.query(`ALTER TABLE calls ADD COLUMN reconcile_checks integer`);
    await q.query(`ALTER TABLE calls ADD COLUMN max_duration_seconds integer`);
    // The reconciler's pass: live calls placed at Ultravox, a small set whatever the table's size.
    await q.query(
      `CREATE INDEX calls_reconcile_idx ON calls (coalesce(reconcile_at, updated_at))
        WHERE status IN ('dialing', 'in_progress') AND ultravox_call_id IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX calls_reconcile_idx`);
    await q.query(`ALTER TABLE calls DROP COLUMN max_duration_seconds`);
    await q.query(`ALTER TABLE calls DROP COLUMN reconcile_checks`);
    await q.query(`ALTER TABLE calls DROP COLUMN reconcile_at`);
  }
}
