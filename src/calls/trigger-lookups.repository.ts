import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { batchPerTick } from '../database/batch-per-tick';
import { byOrdinality, runSql, statement } from '../database/sql';

/** What trigger-call needs to know about one request's agency, agent and number. */
export interface TriggerLookup {
  ultravox_configured: boolean;
  /** As stored: read it through parseStoredWindow / governingWindow. */
  agency_window: unknown;
  wanted_agent_id: string | null;
  agent_id: string | null;
  agent_name: string | null;
  agent_phone: string | null;
  agent_window: unknown;
  /** The variables the agent's Ultravox context schema declares, as last read; null when none. */
  agent_context_variables: string[] | null;
  on_dnc: boolean;
}

export interface TriggerLookupRequest {
  agencyId: string;
  agentId: string | null;
  phone: string;
}

/**
 * Everything trigger-call checks, for a batch of requests in one round trip: each one's agency, agent
 * (given or the default) and whether the number is on the agency's DNC list.
 */
const TRIGGER_LOOKUPS = statement(
  'calls_trigger_lookups',
  `SELECT r.ord,
          a.ultravox_api_key_encrypted IS NOT NULL AS ultravox_configured,
          a.calling_window AS agency_window,
          coalesce(r.agent_id, a.default_agent_id) AS wanted_agent_id,
          g.id AS agent_id, g.name AS agent_name, g.phone_number AS agent_phone,
          g.calling_window AS agent_window, g.context_variables AS agent_context_variables,
          EXISTS (SELECT 1 FROM dnc_numbers d WHERE d.agency_id = a.id AND d.phone_number = r.phone) AS on_dnc
     FROM unnest($1::uuid[], $2::uuid[], $3::text[]) WITH ORDINALITY AS r(agency_id, agent_id, phone, ord)
     JOIN agencies a ON a.id = r.agency_id
     LEFT JOIN agents g ON g.id = coalesce(r.agent_id, a.default_agent_id) AND g.agency_id = a.id`,
);

/**
 * The reads of trigger-call, across agencies, agents and DNC: a hot path, so concurrent triggers share
 * one prepared statement per event-loop turn instead of three queries each.
 */
@Injectable()
export class TriggerLookupsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Null when the agency does not exist. */
  readonly lookUp = batchPerTick(async (requests: readonly TriggerLookupRequest[]) => {
    const rows = await runSql<TriggerLookup & { ord: string }>(this.db, TRIGGER_LOOKUPS, [
      requests.map((r) => r.agencyId),
      requests.map((r) => r.agentId),
      requests.map((r) => r.phone),
    ]);
    return byOrdinality(rows, requests.length);
  });
}
