import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, DeepPartial, Repository } from 'typeorm';
import { Page } from '../common/pagination';
import { PageQueryDto } from '../common/dto/page-query.dto';
import { paginate } from '../database/pagination';
import { Db, literals, runSql, statement, Tx } from '../database/sql';
import { Campaign, CampaignStatus, ContactStatus } from './campaign.entity';
import { CAMPAIGN_TRANSITIONS, CampaignAction } from './campaign-transitions';
import type { CampaignStatsDto } from './dto/campaign.dto';

/**
 * Every query on campaigns. Statements over campaigns and campaign_contacts are planned per execution
 * (`reusePlan: false`): both tables start empty, and a generic plan fixed then (a sequential scan)
 * would outlive their growth.
 */

/**
 * Serialises what changes a campaign's contacts and calls — ticks, imports, pause and cancel — for the
 * rest of the transaction (a transaction-scoped advisory lock on the campaign id).
 */
const LOCK = statement(
  'campaign_lock',
  `SELECT pg_advisory_xact_lock(hashtextextended('campaign:' || $1, 0))`,
  { reusePlan: false },
);

const TRY_LOCK = statement(
  'campaign_try_lock',
  `SELECT pg_try_advisory_xact_lock(hashtextextended('campaign:' || $1, 0)) AS locked`,
  { reusePlan: false },
);

const STATS = statement(
  'campaign_stats',
  `SELECT campaign_id, status, count(*)::int AS n FROM campaign_contacts
    WHERE campaign_id = ANY($1::uuid[]) GROUP BY campaign_id, status`,
  { reusePlan: false },
);

/** The campaigns the dispatcher moves along, by id after a keyset position, so that every pass is bounded. */
const ACTIVE_AFTER = statement(
  'campaigns_active_after',
  `SELECT id FROM campaigns
    WHERE status IN (${literals<CampaignStatus>('running', 'paused')}) AND id > $1::uuid
    ORDER BY id LIMIT $2`,
  { reusePlan: false },
);

/**
 * A campaign as a tick needs it, with its agent's and its agency's calling windows (read through a
 * join: the agency's settings are its owner's, this only reads them). A canceled campaign is ticked
 * only to settle the contacts of calls that were live when it was canceled.
 */
const FOR_TICK = statement(
  'campaign_for_tick',
  `SELECT c.id, c.agency_id, c.name, c.status, c.max_concurrency, c.calling_window, c.retry_max_attempts,
          c.retry_on, c.retry_delay_ms::float8 AS retry_delay_ms, c.record, g.id AS agent_id,
          g.calling_window AS agent_window, a.calling_window AS agency_window
     FROM campaigns c
     JOIN agencies a ON a.id = c.agency_id
     LEFT JOIN agents g ON g.id = c.agent_id
    WHERE c.id = $1 AND c.status IN (${literals<CampaignStatus>('running', 'paused', 'canceled')})`,
  { reusePlan: false },
);

/** What starting a campaign checks in its agency's settings (read through a join, as above). */
const START_CHECKS = statement(
  'campaign_start_checks',
  `SELECT a.default_agent_id, a.ultravox_api_key_encrypted IS NOT NULL AS has_ultravox_key
     FROM campaigns c JOIN agencies a ON a.id = c.agency_id
    WHERE c.id = $1`,
  { reusePlan: false },
);

const STATUS_FOR_SHARE = statement(
  'campaign_status_for_share',
  `SELECT status FROM campaigns WHERE id = $1 FOR SHARE`,
  { reusePlan: false },
);

/**
 * Every transition's statement: conditional on the campaign still being in one of its `from` states.
 * `pause` records why (the dispatcher's reason, null for a user's pause); every other edge clears it.
 */
const TRANSITION_STATEMENTS = Object.fromEntries(
  Object.entries(CAMPAIGN_TRANSITIONS).map(([name, t]) => {
    const reason = name === 'pause' ? `$${t.stamps ? 3 : 2}` : 'NULL';
    return [
      name,
      statement(
        `campaign_transition_${name}`,
        `UPDATE campaigns
            SET status = ${literals<CampaignStatus>(t.to)},${t.stamps ? ` ${t.stamps} = $2,` : ''}
                paused_reason = ${reason}, updated_at = now()
          WHERE id = $1 AND status IN (${literals<CampaignStatus>(...t.from)})${
            name === 'finish'
              ? ` AND NOT EXISTS (SELECT 1 FROM campaign_contacts
                                   WHERE campaign_id = $1
                                     AND status IN (${literals<ContactStatus>('pending', 'in_progress')}))`
              : ''
          }
         RETURNING id`,
        { reusePlan: false },
      ),
    ];
  }),
) as Record<CampaignAction | 'finish', ReturnType<typeof statement>>;

/**
 * A campaign as a tick reads it. Its settings are as stored, possibly invalid (written before input was
 * checked): the dispatcher reads them through readCampaignSettings before using them.
 */
export interface TickCampaign {
  id: string;
  agencyId: string;
  name: string;
  status: CampaignStatus;
  maxConcurrency: number;
  callingWindow: unknown;
  retry: StoredRetryPolicy;
  /** Null when the campaign has no agent (or it was deleted). */
  agentId: string | null;
  /** Whether its calls are recorded; null follows the agent's `record_calls`. */
  record: boolean | null;
  agentWindow: unknown;
  agencyWindow: unknown;
}

/** The retry policy's columns as stored. */
export interface StoredRetryPolicy {
  maxAttempts: number;
  on: string[];
  delayMs: number;
}

interface TickRow {
  id: string;
  agency_id: string;
  name: string;
  status: CampaignStatus;
  max_concurrency: number;
  calling_window: unknown;
  retry_max_attempts: number;
  retry_on: string[];
  retry_delay_ms: number;
  record: boolean | null;
  agent_id: string | null;
  agent_window: unknown;
  agency_window: unknown;
}

const emptyStats = (): CampaignStatsDto => ({
  total: 0,
  pending: 0,
  in_progress: 0,
  completed: 0,
  failed: 0,
  skipped: 0,
  canceled: 0,
});

@Injectable()
export class CampaignsRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRepository(Campaign) private readonly campaigns: Repository<Campaign>,
  ) {}

  insert(fields: DeepPartial<Campaign>): Promise<Campaign> {
    return this.campaigns.save(this.campaigns.create(fields));
  }

  /** Saves a draft's editable fields (status is written only by `transition`). */
  async saveDraft(campaign: Campaign): Promise<void> {
    await this.campaigns.update(
      { id: campaign.id, status: 'draft' },
      {
        name: campaign.name,
        agentId: campaign.agentId,
        maxConcurrency: campaign.maxConcurrency,
        callingWindow: campaign.callingWindow,
        retryMaxAttempts: campaign.retryMaxAttempts,
        retryOn: campaign.retryOn,
        retryDelayMs: campaign.retryDelayMs,
        record: campaign.record,
      },
    );
  }

  setAgent(id: string, agentId: string): Promise<unknown> {
    return this.campaigns.update(id, { agentId });
  }

  find(agencyId: string, id: string): Promise<Campaign | null> {
    return this.campaigns.findOneBy({ id, agencyId });
  }

  /** The campaign as `tx` sees it. */
  get(tx: Tx, id: string): Promise<Campaign> {
    return tx.findOneByOrFail(Campaign, { id });
  }

  /** Newest first, keyset-paginated. */
  page(agencyId: string, status: CampaignStatus | undefined, query: PageQueryDto): Promise<Page<Campaign>> {
    const qb = this.campaigns
      .createQueryBuilder('campaign')
      .where('campaign.agency_id = :agencyId', { agencyId });
    if (status) qb.andWhere('campaign.status = :status', { status });
    return paginate(qb, query);
  }

  /** Live contact counts per campaign (every id has an entry), in one grouped query. */
  async stats(
    campaignIds: readonly string[],
    db: Db = this.dataSource,
  ): Promise<Record<string, CampaignStatsDto>> {
    const stats: Record<string, CampaignStatsDto> = {};
    for (const id of campaignIds) stats[id] = emptyStats();
    if (campaignIds.length === 0) return stats;
    const rows = await runSql<{ campaign_id: string; status: ContactStatus; n: number }>(db, STATS, [
      campaignIds,
    ]);
    for (const row of rows) {
      stats[row.campaign_id][row.status] = row.n;
      stats[row.campaign_id].total += row.n;
    }
    return stats;
  }

  /** Waits for the campaign's lock (held until `tx` ends): for pause, cancel and imports. */
  async lock(tx: Tx, id: string): Promise<void> {
    await runSql(tx, LOCK, [id]);
  }

  /** Takes the campaign's lock if it is free (held until `tx` ends): ticks skip a busy campaign. */
  async tryLock(tx: Tx, id: string): Promise<boolean> {
    const [{ locked }] = await runSql<{ locked: boolean }>(tx, TRY_LOCK, [id]);
    return locked;
  }

  /**
   * Moves the campaign along one edge of CAMPAIGN_TRANSITIONS if it is still in one of that edge's
   * states (`finish` only when no contact is pending or in progress); false when it was not.
   * `pausedReason` is stored by `pause` (the dispatcher's reason; null when a user pauses).
   */
  async transition(
    tx: Tx,
    id: string,
    name: CampaignAction | 'finish',
    at: Date,
    pausedReason: string | null = null,
  ): Promise<boolean> {
    const stmt = TRANSITION_STATEMENTS[name];
    const values: unknown[] = CAMPAIGN_TRANSITIONS[name].stamps ? [id, at] : [id];
    if (name === 'pause') values.push(pausedReason);
    return (await runSql(tx, stmt, values)).length > 0;
  }

  async statusForShare(tx: Tx, id: string): Promise<CampaignStatus> {
    const [{ status }] = await runSql<{ status: CampaignStatus }>(tx, STATUS_FOR_SHARE, [id]);
    return status;
  }

  async startChecks(id: string): Promise<{ defaultAgentId: string | null; hasUltravoxKey: boolean }> {
    const [row] = await runSql<{ default_agent_id: string | null; has_ultravox_key: boolean }>(
      this.dataSource,
      START_CHECKS,
      [id],
    );
    return { defaultAgentId: row.default_agent_id, hasUltravoxKey: row.has_ultravox_key };
  }

  /** Up to `limit` running or paused campaigns after `afterId` in id order (the nil uuid: from the start). */
  async activeAfter(afterId: string, limit: number): Promise<string[]> {
    const rows = await runSql<{ id: string }>(this.dataSource, ACTIVE_AFTER, [afterId, limit]);
    return rows.map((row) => row.id);
  }

  async forTick(tx: Tx, id: string): Promise<TickCampaign | null> {
    const [row] = await runSql<TickRow>(tx, FOR_TICK, [id]);
    if (!row) return null;
    return {
      id: row.id,
      agencyId: row.agency_id,
      name: row.name,
      status: row.status,
      maxConcurrency: row.max_concurrency,
      callingWindow: row.calling_window,
      retry: { maxAttempts: row.retry_max_attempts, on: row.retry_on, delayMs: row.retry_delay_ms },
      agentId: row.agent_id,
      record: row.record,
      agentWindow: row.agent_window,
      agencyWindow: row.agency_window,
    };
  }
}
