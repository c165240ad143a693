import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Bulk recovery (POST /api/v1/webhooks/:id/recover) re-sends an endpoint's deliveries that failed in a
 * time range:
 * - `failed_at`: when the delivery was marked failed; set exactly while its status is `failed` (the
 *   CHECK makes every writer keep it so). Deliveries already failed take their last change, which is
 *   their last attempt's claim.
 * - `attempt_base`: the attempts made before the current automatic retry schedule began. A recovered
 *   delivery gets the whole schedule again while its attempt numbers go on counting, so the log keeps
 *   every attempt under a unique, increasing number.
 * - the partial index serves recovery's look-up (one endpoint, failed, by failed_at). It holds only
 *   failed deliveries, and the claim (the most frequent write) touches none of its columns.
 */
export class DeliveryRecovery1763990000000 implements MigrationInterface {
  name = 'DeliveryRecovery1763990000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE webhook_deliveries ADD COLUMN failed_at timestamptz`);
    await q.query(`ALTER TABLE webhook_deliveries ADD COLUMN attempt_base integer NOT NULL DEFAULT 0`);
    await q.query(`UPDATE webhook_deliveries SET failed_at = updated_at WHERE status = 'failed'`);
    await q.query(
      `ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_failed_at_check
         CHECK ((status = 'failed') = (failed_at IS NOT NULL))`,
    );
    await q.query(
      `CREATE INDEX webhook_deliveries_failed_idx ON webhook_deliveries (endpoint_id, failed_at) WHERE status = 'failed'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX webhook_deliveries_failed_idx`);
    await q.query(`ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_failed_at_check`);
    await q.query(`ALTER TABLE webhook_deliveries DROP COLUMN attempt_base`);
    await q.query(`ALTER TABLE webhook_deliveries DROP COLUMN failed_at`);
  }
}
