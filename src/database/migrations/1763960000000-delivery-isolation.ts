import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The delivery sweeper pages through due deliveries on (next_attempt_at, id) from where its last pass
 * ended (deliveries parked at their endpoint's in-flight cap are due too, and a long backlog must not
 * hide the deliveries behind it): the partial due index gains the id.
 */
export class DeliveryIsolation1763960000000 implements MigrationInterface {
  name = 'DeliveryIsolation1763960000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX webhook_deliveries_due_idx`);
    await q.query(
      `CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at, id) WHERE status = 'pending'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX webhook_deliveries_due_idx`);
    await q.query(
      `CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending'`,
    );
  }
}
