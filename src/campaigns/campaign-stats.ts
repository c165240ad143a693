import { EntityManager } from 'typeorm';
import { CampaignStatsDto } from './dto/campaign.dto';

export const emptyCampaignStats = (): CampaignStatsDto => ({
  total: 0,
  pending: 0,
  in_progress: 0,
  completed: 0,
  failed: 0,
  skipped: 0,
  canceled: 0,
});

/** Live contact counts per campaign, in one grouped query. */
export async function campaignStats(
  em: EntityManager,
  campaignIds: string[],
): Promise<Map<string, CampaignStatsDto>> {
  const stats = new Map(campaignIds.map((id) => [id, emptyCampaignStats()]));
  if (campaignIds.length === 0) return stats;
  const rows: { campaign_id: string; status: keyof CampaignStatsDto; n: number }[] = await em.query(
    `SELECT campaign_id, status, count(*)::int AS n FROM campaign_contacts WHERE campaign_id = ANY($1) GROUP BY campaign_id, status`,
    [campaignIds],
  );
  for (const row of rows) {
    const entry = stats.get(row.campaign_id) ?? emptyCampaignStats();
    entry[row.status] = row.n;
    entry.total += row.n;
  }
  return stats;
}
