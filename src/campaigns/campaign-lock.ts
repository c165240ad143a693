import type { EntityManager } from 'typeorm';

/**
 * Serialises what changes a campaign's contacts and calls — ticks, imports, pause and cancel — for the
 * rest of `em`'s transaction (a transaction-scoped advisory lock on the campaign id).
 */
export async function lockCampaign(em: EntityManager, campaignId: string): Promise<void> {
  await em.query(`SELECT pg_advisory_xact_lock(hashtextextended('campaign:' || $1, 0))`, [campaignId]);
}
