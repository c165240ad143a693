import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { runSql, statement, Statement } from '../database/sql';

/** What a placed call counts as (the rollups' `outcome`; migration 1764510000000-call-usage). */
export type UsageOutcome = 'live' | 'connected' | 'failed';

/** One group's calls of one outcome (and failure reason, '' unless failed). */
export interface UsageRow {
  /** The day (YYYY-MM-DD, in the zone asked), the agent id or the campaign id; null: none. */
  key: string | null;
  outcome: UsageOutcome;
  failureReason: string;
  calls: number;
  talkSeconds: number;
  billedSeconds: number;
}

/** The range cut where the rollups' buckets begin and end: only the edges are read from calls. */
export interface UsageRange {
  agencyId: string;
  from: Date;
  to: Date;
  /** First bucket boundary at or after `from`; the rollup covers [bucketsFrom, bucketsTo). */
  bucketsFrom: Date;
  bucketsTo: Date;
}

/** The calls of the range's edges (less than a bucket each), counted as the rollups count them. */
const EDGE_CALLS = `
  SELECT c.created_at, c.agent_id, c.campaign_id,
         split_part(call_usage_outcome(c.status, c.failure_reason), ':', 1) AS outcome,
         CASE WHEN c.status = 'failed' THEN coalesce(c.failure_reason, 'unknown') ELSE '' END AS failure_reason,
         1 AS calls, coalesce(c.duration_seconds, 0) AS talk_seconds,
         coalesce(c.billed_duration_seconds, 0) AS billed_seconds
    FROM calls c
   WHERE c.agency_id = $1 AND call_usage_outcome(c.status, c.failure_reason) IS NOT NULL
     AND ((c.created_at >= $2 AND c.created_at < $4) OR (c.created_at >= $5 AND c.created_at < $3))`;

const GROUPED = `
  SELECT key, outcome, failure_reason, sum(calls)::bigint AS calls,
         sum(talk_seconds)::bigint AS talk_seconds, sum(billed_seconds)::bigint AS billed_seconds
    FROM parts GROUP BY key, outcome, failure_reason ORDER BY key NULLS FIRST, outcome, failure_reason`;

/**
 * By day in zone `$6`: each 15-minute bucket lies in one local day (every zone's midnight is on a
 * quarter-hour), so a bucket's day is its start's. A join of local days to bucket ranges would convert
 * fewer times, but its estimate made Postgres compile it with JIT, 20 times slower (benchmarks.md#usage).
 */
const BY_DAY = statement(
  'usage_by_day',
  `WITH parts AS (
     SELECT (u.bucket AT TIME ZONE $6::text)::date::text AS key, u.outcome, u.failure_reason, u.calls,
            u.talk_seconds, u.billed_seconds
       FROM call_usage_quarters u
      WHERE u.agency_id = $1 AND u.bucket >= $4 AND u.bucket < $5
     UNION ALL
     SELECT (e.created_at AT TIME ZONE $6::text)::date::text, e.outcome, e.failure_reason, e.calls,
            e.talk_seconds, e.billed_seconds
       FROM (${EDGE_CALLS}) e
   ) ${GROUPED}`,
  { reusePlan: false },
);

/**
 * By agent or campaign: whole UTC days from the daily rollup. Every statement here is planned for its
 * values (`reusePlan: false`): a generic plan cannot see how narrow the range is.
 */
const byDimension = (name: string, column: 'agent_id' | 'campaign_id'): Statement =>
  statement(
    name,
    `WITH parts AS (
       SELECT u.${column}::text AS key, u.outcome, u.failure_reason, u.calls, u.talk_seconds, u.billed_seconds
         FROM call_usage_days u
        WHERE u.agency_id = $1 AND u.day >= ($4::timestamptz AT TIME ZONE 'UTC')::date
          AND u.day < ($5::timestamptz AT TIME ZONE 'UTC')::date
       UNION ALL
       SELECT e.${column}::text, e.outcome, e.failure_reason, e.calls, e.talk_seconds, e.billed_seconds
         FROM (${EDGE_CALLS}) e
     ) ${GROUPED}`,
    { reusePlan: false },
  );

const BY_AGENT = byDimension('usage_by_agent', 'agent_id');
const BY_CAMPAIGN = byDimension('usage_by_campaign', 'campaign_id');

/**
 * Usage reads (issue 15, point 4). The rollups are written by the trigger on calls (migration
 * 1764510000000-call-usage), never here.
 */
@Injectable()
export class UsageRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** `range`'s buckets must be 15-minute boundaries (2000-01-01 UTC origin). */
  byDay(range: UsageRange, timeZone: string): Promise<UsageRow[]> {
    return this.run(BY_DAY, range, [timeZone]);
  }

  /** `range`'s buckets must be UTC midnights. */
  byAgent(range: UsageRange): Promise<UsageRow[]> {
    return this.run(BY_AGENT, range, []);
  }

  /** `range`'s buckets must be UTC midnights. */
  byCampaign(range: UsageRange): Promise<UsageRow[]> {
    return this.run(BY_CAMPAIGN, range, []);
  }

  private async run(stmt: Statement, range: UsageRange, extra: unknown[]): Promise<UsageRow[]> {
    const rows = await runSql<{
      key: string | null;
      outcome: UsageOutcome;
      failure_reason: string;
      calls: string;
      talk_seconds: string;
      billed_seconds: string;
    }>(this.db, stmt, [range.agencyId, range.from, range.to, range.bucketsFrom, range.bucketsTo, ...extra]);
    return rows.map((row) => ({
      key: row.key,
      outcome: row.outcome,
      failureReason: row.failure_reason,
      calls: Number(row.calls),
      talkSeconds: Number(row.talk_seconds),
      billedSeconds: Number(row.billed_seconds),
    }));
  }
}
