import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { Agency } from '../agencies/agency.entity';
import { Agent } from '../agents/agent.entity';
import { Page } from '../common/pagination';
import { paginate } from '../database/pagination';
import { Db, literals, runSql, statement } from '../database/sql';
import { BillingStatus, FinalBilling } from './billing';
import { Call, CallEvent, CallStatus } from './call.entity';

export interface CallFilter {
  status?: CallStatus;
  agentId?: string;
  campaignId?: string;
  phone?: string;
  billingStatus?: BillingStatus;
  /** Created at or after. */
  createdFrom?: Date;
  /** Created before. */
  createdBefore?: Date;
}

/** Due: queued or scheduled, and their time (or their creation) is before `$1`. */
const SELECT_DUE = statement(
  'calls_due_for_dial',
  `SELECT id FROM calls WHERE status IN (${literals<CallStatus>('queued', 'scheduled')})
     AND coalesce(scheduled_for, created_at) <= $1 ORDER BY coalesce(scheduled_for, created_at) LIMIT $2`,
  { reusePlan: false },
);

/**
 * The call an Ultravox event is about: ours by the id in its metadata ($2, may be null), else by its
 * Ultravox call id ($3); only what processing the event needs.
 */
const SELECT_FOR_EVENT = statement(
  'calls_select_for_event',
  `SELECT id, agency_id AS "agencyId", status, duration_seconds AS "durationSeconds",
          ultravox_call_id AS "ultravoxCallId"
     FROM calls
    WHERE agency_id = $1 AND (id = $2::uuid OR ultravox_call_id = $3)
    ORDER BY id = $2::uuid DESC NULLS LAST
    LIMIT 1`,
);

/** What processing an Ultravox event needs to know of its call. */
export type CallForEvent = Pick<Call, 'id' | 'agencyId' | 'status' | 'durationSeconds' | 'ultravoxCallId'>;

/**
 * Live calls placed at Ultravox that are due to be read back: never looked at and silent since `$1`,
 * or whose next look (`reconcile_at`) is due by `$2`. Oldest first; the partial index keeps it to the
 * live calls.
 */
const SELECT_DUE_FOR_RECONCILE = statement(
  'calls_due_for_reconcile',
  `SELECT id, agency_id, ultravox_call_id, reconcile_checks, max_duration_seconds,
          coalesce(dialed_at, created_at) AS placed_at
     FROM calls
    WHERE status IN (${literals<CallStatus>('dialing', 'in_progress')}) AND ultravox_call_id IS NOT NULL
      AND ((reconcile_at IS NULL AND updated_at <= $1) OR reconcile_at <= $2)
    ORDER BY coalesce(reconcile_at, updated_at) LIMIT $3`,
  { reusePlan: false },
);

/** Not a status change, so updated_at (the call's last news) is left as it is. */
const SCHEDULE_RECONCILE = statement(
  'calls_schedule_reconcile',
  `UPDATE calls SET reconcile_at = $2, reconcile_checks = $3,
                    max_duration_seconds = coalesce($4, max_duration_seconds)
    WHERE id = $1 AND status IN (${literals<CallStatus>('dialing', 'in_progress')})`,
);

const POSTPONE_RECONCILE = statement(
  'calls_postpone_reconcile',
  `UPDATE calls SET reconcile_at = greatest(coalesce(reconcile_at, $2), $2)
    WHERE id = $1 AND status IN (${literals<CallStatus>('dialing', 'in_progress')})`,
);

/**
 * Billing (src/calls/billing.ts): this repository is the only writer of billing_status,
 * billed_duration_seconds, billing_check_at and billing_checks. Ultravox's final word always wins
 * (a late call.billed replaces `unavailable`); `pending` never replaces anything.
 */
const RECORD_BILLING = statement(
  'calls_record_billing',
  `UPDATE calls SET billing_status = $2, billed_duration_seconds = $3, billing_check_at = NULL,
                    duration_seconds = coalesce(duration_seconds, $4)
    WHERE id = $1`,
);

/** Pending unless billed already; and the duration ($2) when none is stored yet. Nothing to do: no write. */
const AWAIT_BILLING = statement(
  'calls_await_billing',
  `UPDATE calls SET billing_status = coalesce(billing_status, ${literals<BillingStatus>('pending')}),
                    duration_seconds = coalesce(duration_seconds, $2)
    WHERE id = $1 AND (billing_status IS NULL OR (duration_seconds IS NULL AND $2::integer IS NOT NULL))`,
);

/** Ended calls still pending: first looked at `$1` after their end, then at their `billing_check_at`. */
const SELECT_DUE_FOR_BILLING = statement(
  'calls_due_for_billing',
  `SELECT id, agency_id, ultravox_call_id, billing_checks, coalesce(ended_at, updated_at) AS ended_at
     FROM calls
    WHERE billing_status = ${literals<BillingStatus>('pending')} AND ultravox_call_id IS NOT NULL
      AND ((billing_check_at IS NULL AND coalesce(ended_at, updated_at) <= $1) OR billing_check_at <= $2)
    ORDER BY coalesce(billing_check_at, ended_at, updated_at) LIMIT $3`,
  { reusePlan: false },
);

const SCHEDULE_BILLING_CHECK = statement(
  'calls_schedule_billing_check',
  `UPDATE calls SET billing_check_at = $2, billing_checks = $3
    WHERE id = $1 AND billing_status = ${literals<BillingStatus>('pending')}`,
);

const BILLING_UNAVAILABLE = statement(
  'calls_billing_unavailable',
  `UPDATE calls SET billing_status = ${literals<BillingStatus>('unavailable')}, billing_check_at = NULL
    WHERE id = $1 AND billing_status = ${literals<BillingStatus>('pending')}`,
);

/** An ended call whose billing Ultravox has not sent yet. */
export interface CallAwaitingBilling {
  id: string;
  agencyId: string;
  ultravoxCallId: string;
  /** Times Ultravox was asked so far. */
  checks: number;
  endedAt: Date;
}

/** A live call the reconciler reads back from Ultravox. */
export interface CallToReconcile {
  id: string;
  agencyId: string;
  ultravoxCallId: string;
  /** Times found still live (or unreadable) so far. */
  checks: number;
  /** When it was dialed (or, for an inbound call, first seen). */
  placedAt: Date;
  /** Its `maxDuration` as Ultravox last reported it, if it was ever read. */
  maxDurationSeconds: number | null;
}

/**
 * Reads of calls and their timelines (call_events), and the writes that are not a status change.
 * Every status change goes through CallTransitions (lifecycle/call-transitions.repository.ts).
 */
@Injectable()
export class CallsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** One agency's calls, newest first (CONTRACT §5.6). */
  async page(
    agencyId: string,
    filter: CallFilter,
    query: { limit?: number; cursor?: string },
  ): Promise<Page<Call>> {
    const qb = this.db
      .getRepository(Call)
      .createQueryBuilder('call')
      .where('call.agency_id = :agencyId', { agencyId });
    if (filter.status) qb.andWhere('call.status = :status', { status: filter.status });
    if (filter.agentId) qb.andWhere('call.agent_id = :agentId', { agentId: filter.agentId });
    if (filter.campaignId) qb.andWhere('call.campaign_id = :campaignId', { campaignId: filter.campaignId });
    if (filter.phone) qb.andWhere('call.phone_number = :phone', { phone: filter.phone });
    if (filter.billingStatus) {
      qb.andWhere('call.billing_status = :billingStatus', { billingStatus: filter.billingStatus });
    }
    if (filter.createdFrom) {
      qb.andWhere('call.created_at >= :createdFrom', { createdFrom: filter.createdFrom });
    }
    if (filter.createdBefore) {
      qb.andWhere('call.created_at < :createdBefore', { createdBefore: filter.createdBefore });
    }
    return paginate(qb, query);
  }

  findInAgency(agencyId: string, id: string): Promise<Call | null> {
    return this.db.getRepository(Call).findOneBy({ id, agencyId });
  }

  /** Any agency's call: only for a request that proved its right to it otherwise (a signed link). */
  findOne(id: string): Promise<Call | null> {
    return this.db.getRepository(Call).findOneBy({ id });
  }

  /**
   * The call's timeline, chronological: ids follow insertion, but concurrent transactions can commit in
   * another order.
   */
  timeline(callId: string): Promise<CallEvent[]> {
    return this.db
      .getRepository(CallEvent)
      .find({ where: { callId }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  findById(db: Db, id: string): Promise<Call | null> {
    return db.getRepository(Call).findOneBy({ id });
  }

  find(id: string): Promise<Call | null> {
    return this.findById(this.db, id);
  }

  /** The agency's call with our id `ours` (from the Ultravox call's metadata), else with this Ultravox call id. */
  async findForEvent(
    agencyId: string,
    ours: string | null,
    ultravoxCallId: string,
  ): Promise<CallForEvent | null> {
    const [call] = await runSql<CallForEvent>(this.db, SELECT_FOR_EVENT, [agencyId, ours, ultravoxCallId]);
    return call ?? null;
  }

  /** The agency and agent a call is dialed for (the agent null when it was deleted). */
  async dialParties(db: Db, call: Call): Promise<{ agency: Agency; agent: Agent | null }> {
    const agency = await db.getRepository(Agency).findOneByOrFail({ id: call.agencyId });
    const agent = call.agentId ? await db.getRepository(Agent).findOneBy({ id: call.agentId }) : null;
    return { agency, agent };
  }

  /** The agency's agent that is this Ultravox agent, if any (for calls Switchboard did not place). */
  async agentIdOf(agencyId: string, ultravoxAgentId: string): Promise<string | null> {
    const agent = await this.db.getRepository(Agent).findOneBy({ agencyId, ultravoxAgentId });
    return agent?.id ?? null;
  }

  /** Ids of calls that should have a dial job by `before`, oldest first. */
  async dueForDial(before: Date, limit: number): Promise<string[]> {
    const rows = await runSql<{ id: string }>(this.db, SELECT_DUE, [before, limit]);
    return rows.map((row) => row.id);
  }

  /** Calls marked dialing before `before` that never got an Ultravox id: the dial's answer was lost. */
  stuckDialing(before: Date, limit: number): Promise<Call[]> {
    return this.db
      .getRepository(Call)
      .createQueryBuilder('call')
      .where(`call.status = ${literals<CallStatus>('dialing')}`)
      .andWhere('call.ultravox_call_id IS NULL AND call.dialed_at < :before', { before })
      .limit(limit)
      .getMany();
  }

  /** Live calls due to be read back from Ultravox (see SELECT_DUE_FOR_RECONCILE), oldest first. */
  async dueForReconcile(silentSince: Date, now: Date, limit: number): Promise<CallToReconcile[]> {
    const rows = await runSql<{
      id: string;
      agency_id: string;
      ultravox_call_id: string;
      reconcile_checks: number | null;
      max_duration_seconds: number | null;
      placed_at: Date;
    }>(this.db, SELECT_DUE_FOR_RECONCILE, [silentSince, now, limit]);
    return rows.map((row) => ({
      id: row.id,
      agencyId: row.agency_id,
      ultravoxCallId: row.ultravox_call_id,
      checks: row.reconcile_checks ?? 0,
      placedAt: row.placed_at,
      maxDurationSeconds: row.max_duration_seconds,
    }));
  }

  /** The live call's next look at Ultravox, its count of looks so far, and its maxDuration when read. */
  async scheduleReconcile(
    id: string,
    at: Date,
    checks: number,
    maxDurationSeconds: number | null = null,
  ): Promise<void> {
    await runSql(this.db, SCHEDULE_RECONCILE, [id, at, checks, maxDurationSeconds]);
  }

  /** The reconciler leaves a live call alone until `at` (a call whose end is being processed). */
  async postponeReconcile(id: string, at: Date): Promise<void> {
    await runSql(this.db, POSTPONE_RECONCILE, [id, at]);
  }

  /** Ultravox's final billing of the call (call.billed, or read back), with its duration when none is stored yet. */
  async recordBilling(
    id: string,
    billing: FinalBilling,
    durationIfUnknown: number | null = null,
  ): Promise<void> {
    await runSql(this.db, RECORD_BILLING, [id, billing.status, billing.billedSeconds, durationIfUnknown]);
  }

  /**
   * The call ended at Ultravox and its billing is to come (unless it already came), with its duration
   * when none is stored yet.
   */
  async awaitBilling(id: string, durationIfUnknown: number | null = null): Promise<void> {
    await runSql(this.db, AWAIT_BILLING, [id, durationIfUnknown]);
  }

  /**
   * Pending calls due to be read back: never looked at and ended before `endedBefore`, or whose next
   * look is due by `now`. Oldest first.
   */
  async dueForBilling(endedBefore: Date, now: Date, limit: number): Promise<CallAwaitingBilling[]> {
    const rows = await runSql<{
      id: string;
      agency_id: string;
      ultravox_call_id: string;
      billing_checks: number | null;
      ended_at: Date;
    }>(this.db, SELECT_DUE_FOR_BILLING, [endedBefore, now, limit]);
    return rows.map((row) => ({
      id: row.id,
      agencyId: row.agency_id,
      ultravoxCallId: row.ultravox_call_id,
      checks: row.billing_checks ?? 0,
      endedAt: row.ended_at,
    }));
  }

  async scheduleBillingCheck(id: string, at: Date, checks: number): Promise<void> {
    await runSql(this.db, SCHEDULE_BILLING_CHECK, [id, at, checks]);
  }

  /** Ultravox never billed the call in time: Switchboard stops asking (a late call.billed still counts). */
  async billingUnavailable(id: string): Promise<void> {
    await runSql(this.db, BILLING_UNAVAILABLE, [id]);
  }
}
