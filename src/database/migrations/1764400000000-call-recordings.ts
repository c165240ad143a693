import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Call recordings (issue 15): an agent records its calls when `record_calls` is set; a campaign may
 * override that with `record` (null: follow the agent). Each call stores the decision taken when it
 * was created (`recording_enabled`), which is what Ultravox is asked for and what decides whether the
 * call has a `recording_url`.
 */
export class CallRecordings1764400000000 implements MigrationInterface {
  name = 'CallRecordings1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE agents ADD COLUMN record_calls boolean NOT NULL DEFAULT false`);
    await q.query(`ALTER TABLE campaigns ADD COLUMN record boolean`);
    await q.query(`ALTER TABLE calls ADD COLUMN recording_enabled boolean NOT NULL DEFAULT false`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE calls DROP COLUMN recording_enabled`);
    await q.query(`ALTER TABLE campaigns DROP COLUMN record`);
    await q.query(`ALTER TABLE agents DROP COLUMN record_calls`);
  }
}
