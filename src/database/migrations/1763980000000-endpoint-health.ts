import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Endpoint health (CONTRACT §5.4): since when an endpoint has been failing (paused by the circuit
 * breaker and not answered a probe since), the basis of `state` and of the auto-disable after
 * WEBHOOK_DISABLE_AFTER; and the receiver's optional throttle.
 */
export class EndpointHealth1763980000000 implements MigrationInterface {
  name = 'EndpointHealth1763980000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE webhook_endpoints ADD COLUMN failing_since timestamptz`);
    await q.query(
      `ALTER TABLE webhook_endpoints ADD COLUMN rate_limit_per_second integer CHECK (rate_limit_per_second > 0)`,
    );
    // The auto-disable pass: active endpoints failing for longest.
    await q.query(
      `CREATE INDEX webhook_endpoints_failing_idx ON webhook_endpoints (failing_since) WHERE active AND failing_since IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX webhook_endpoints_failing_idx`);
    await q.query(`ALTER TABLE webhook_endpoints DROP COLUMN rate_limit_per_second`);
    await q.query(`ALTER TABLE webhook_endpoints DROP COLUMN failing_since`);
  }
}
