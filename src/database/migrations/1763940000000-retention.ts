import { MigrationInterface, QueryRunner } from 'typeorm';

/** The indexes the retention job's batched deletes (src/retention) and the dispatcher's bounded passes use. */
export class Retention1763940000000 implements MigrationInterface {
  name = 'Retention1763940000000';

  async up(q: QueryRunner): Promise<void> {
    // Ultravox webhook bodies still stored, oldest first.
    await q.query(
      `CREATE INDEX call_events_payload_age_idx ON call_events (created_at) WHERE source = 'ultravox' AND payload IS NOT NULL`,
    );
    await q.query(`CREATE INDEX webhook_events_created_idx ON webhook_events (created_at)`);
    // "No delivery of this event is pending", and the cascade when an event is deleted.
    await q.query(`CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (event_id)`);
    await q.query(`CREATE INDEX webhook_delivery_attempts_at_idx ON webhook_delivery_attempts (at)`);
    // The dispatcher's pass: running and paused campaigns in id order, from where the last pass stopped.
    await q.query(
      `CREATE INDEX campaigns_active_id_idx ON campaigns (id) WHERE status IN ('running', 'paused')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX campaigns_active_id_idx`);
    await q.query(`DROP INDEX webhook_delivery_attempts_at_idx`);
    await q.query(`DROP INDEX webhook_deliveries_event_idx`);
    await q.query(`DROP INDEX webhook_events_created_idx`);
    await q.query(`DROP INDEX call_events_payload_age_idx`);
  }
}
