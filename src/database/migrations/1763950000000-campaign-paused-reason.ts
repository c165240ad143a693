import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Why the dispatcher paused a campaign on its own (a calling window or retry policy stored invalid),
 * shown by the campaign API; null when a user paused it or it is not paused.
 */
export class CampaignPausedReason1763950000000 implements MigrationInterface {
  name = 'CampaignPausedReason1763950000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE campaigns ADD COLUMN paused_reason text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE campaigns DROP COLUMN paused_reason`);
  }
}
