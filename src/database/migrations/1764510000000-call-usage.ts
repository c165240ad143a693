import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Usage (issue 15, point 4; docs/architecture.md "Usage"): two rollups of the calls, kept by a trigger
 * on `calls`, so that every writer (CallTransitions' status changes, CallsRepository's durations and
 * billing, an agent's deletion nulling `agent_id`) moves them in the same transaction:
 * - `call_usage_quarters`: per agency, 15-minute bucket of `created_at` (every time zone's midnight
 *   falls on one), outcome and failure reason — for days in the agency's zone;
 * - `call_usage_days`: per agency, UTC day of `created_at`, agent, campaign, outcome and reason — for
 *   group_by agent and campaign.
 * A call counts once it has been placed: `live` (dialing, in_progress), `connected` (completed) or
 * `failed` (with its reason); queued, scheduled and canceled calls count nowhere. Each change
 * subtracts the row's old contribution and adds its new one. The parts of a range that do not fill a
 * bucket are read from `calls` itself through `calls_usage_idx`.
 * No foreign key to agencies: an agency's deletion cascades to its calls and agents at once, and a
 * rollup row must never stand in its way; the rollups hold only counts.
 */
export class CallUsage1764510000000 implements MigrationInterface {
  name = 'CallUsage1764510000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE call_usage_quarters (
        agency_id uuid NOT NULL,
        bucket timestamptz NOT NULL,
        outcome text NOT NULL,
        failure_reason text NOT NULL,
        calls integer NOT NULL,
        talk_seconds bigint NOT NULL,
        billed_seconds bigint NOT NULL,
        PRIMARY KEY (agency_id, bucket, outcome, failure_reason)
      )`);
    await q.query(`
      CREATE TABLE call_usage_days (
        agency_id uuid NOT NULL,
        day date NOT NULL,
        agent_id uuid,
        campaign_id uuid,
        outcome text NOT NULL,
        failure_reason text NOT NULL,
        calls integer NOT NULL,
        talk_seconds bigint NOT NULL,
        billed_seconds bigint NOT NULL,
        CONSTRAINT call_usage_days_key
          UNIQUE NULLS NOT DISTINCT (agency_id, day, agent_id, campaign_id, outcome, failure_reason)
      )`);
    // The edges of a range (less than a bucket) are read from calls: an index-only scan.
    await q.query(
      `CREATE INDEX calls_usage_idx ON calls (agency_id, created_at)
        INCLUDE (status, failure_reason, agent_id, campaign_id, duration_seconds, billed_duration_seconds)`,
    );
    await q.query(`
      CREATE FUNCTION call_usage_outcome(status text, failure_reason text) RETURNS text
        LANGUAGE sql IMMUTABLE AS $$
          SELECT CASE
            WHEN status IN ('dialing', 'in_progress') THEN 'live'
            WHEN status = 'completed' THEN 'connected'
            WHEN status = 'failed' THEN 'failed:' || coalesce(failure_reason, 'unknown')
          END
        $$`);
    await q.query(`
      CREATE FUNCTION call_usage_apply(c calls, sign integer) RETURNS void LANGUAGE plpgsql AS $$
        DECLARE
          -- v_ names: plpgsql variables must not shadow the rollups' columns.
          v_kind text := call_usage_outcome(c.status, c.failure_reason);
          v_outcome text := split_part(v_kind, ':', 1);
          v_reason text := CASE WHEN c.status = 'failed' THEN coalesce(c.failure_reason, 'unknown') ELSE '' END;
          v_talk bigint := sign * coalesce(c.duration_seconds, 0);
          v_billed bigint := sign * coalesce(c.billed_duration_seconds, 0);
        BEGIN
          IF v_kind IS NULL THEN RETURN; END IF;
          INSERT INTO call_usage_quarters AS u
                 (agency_id, bucket, outcome, failure_reason, calls, talk_seconds, billed_seconds)
          VALUES (c.agency_id, date_bin('15 minutes', c.created_at, timestamptz '2000-01-01 00:00:00+00'),
                  v_outcome, v_reason, sign, v_talk, v_billed)
          ON CONFLICT (agency_id, bucket, outcome, failure_reason) DO UPDATE
             SET calls = u.calls + excluded.calls, talk_seconds = u.talk_seconds + excluded.talk_seconds,
                 billed_seconds = u.billed_seconds + excluded.billed_seconds;
          INSERT INTO call_usage_days AS u
                 (agency_id, day, agent_id, campaign_id, outcome, failure_reason, calls, talk_seconds, billed_seconds)
          VALUES (c.agency_id, (c.created_at AT TIME ZONE 'UTC')::date, c.agent_id, c.campaign_id,
                  v_outcome, v_reason, sign, v_talk, v_billed)
          ON CONFLICT ON CONSTRAINT call_usage_days_key DO UPDATE
             SET calls = u.calls + excluded.calls, talk_seconds = u.talk_seconds + excluded.talk_seconds,
                 billed_seconds = u.billed_seconds + excluded.billed_seconds;
        END
      $$`);
    await q.query(`
      CREATE FUNCTION calls_usage_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'UPDATE' THEN PERFORM call_usage_apply(OLD, -1); END IF;
          PERFORM call_usage_apply(NEW, 1);
          RETURN NULL;
        END
      $$`);
    await q.query(`
      CREATE TRIGGER calls_usage_insert AFTER INSERT ON calls FOR EACH ROW
        WHEN (call_usage_outcome(NEW.status, NEW.failure_reason) IS NOT NULL)
        EXECUTE FUNCTION calls_usage_changed()`);
    // Only a change of what the call counts as: dialing → in_progress, a summary, a reconcile_at… fire nothing.
    await q.query(`
      CREATE TRIGGER calls_usage_update AFTER UPDATE ON calls FOR EACH ROW
        WHEN ((call_usage_outcome(OLD.status, OLD.failure_reason), OLD.duration_seconds,
               OLD.billed_duration_seconds, OLD.agent_id, OLD.campaign_id)
              IS DISTINCT FROM
              (call_usage_outcome(NEW.status, NEW.failure_reason), NEW.duration_seconds,
               NEW.billed_duration_seconds, NEW.agent_id, NEW.campaign_id))
        EXECUTE FUNCTION calls_usage_changed()`);
    // Recounts both rollups from calls: the calls that existed before now, and an operator's repair.
    await q.query(`
      CREATE FUNCTION call_usage_rebuild() RETURNS void LANGUAGE sql AS $$
        TRUNCATE call_usage_quarters, call_usage_days;
        WITH placed AS (
          SELECT agency_id, created_at, agent_id, campaign_id,
                 split_part(call_usage_outcome(status, failure_reason), ':', 1) AS outcome,
                 CASE WHEN status = 'failed' THEN coalesce(failure_reason, 'unknown') ELSE '' END AS reason,
                 coalesce(duration_seconds, 0) AS talk, coalesce(billed_duration_seconds, 0) AS billed
            FROM calls WHERE call_usage_outcome(status, failure_reason) IS NOT NULL
        ), quarters AS (
          INSERT INTO call_usage_quarters
          SELECT agency_id, date_bin('15 minutes', created_at, timestamptz '2000-01-01 00:00:00+00'),
                 outcome, reason, count(*), sum(talk), sum(billed)
            FROM placed GROUP BY 1, 2, 3, 4
        )
        INSERT INTO call_usage_days
        SELECT agency_id, (created_at AT TIME ZONE 'UTC')::date, agent_id, campaign_id, outcome, reason,
               count(*), sum(talk), sum(billed)
          FROM placed GROUP BY 1, 2, 3, 4, 5, 6;
      $$`);
    await q.query(`SELECT call_usage_rebuild()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER calls_usage_update ON calls`);
    await q.query(`DROP TRIGGER calls_usage_insert ON calls`);
    await q.query(`DROP FUNCTION call_usage_rebuild()`);
    await q.query(`DROP FUNCTION calls_usage_changed()`);
    await q.query(`DROP FUNCTION call_usage_apply(calls, integer)`);
    await q.query(`DROP FUNCTION call_usage_outcome(text, text)`);
    await q.query(`DROP INDEX calls_usage_idx`);
    await q.query(`DROP TABLE call_usage_days`);
    await q.query(`DROP TABLE call_usage_quarters`);
  }
}
