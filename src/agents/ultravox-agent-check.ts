import { Injectable, Logger } from '@nestjs/common';
import { AgencySecrets } from '../agencies/agency-secrets';
import { ApiError } from '../common/errors/api-error';
import { isUnstorableText } from '../common/http/storable-input';
import { UltravoxAgent, UltravoxClient } from '../ultravox/ultravox.client';
import { UltravoxError } from '../ultravox/ultravox.errors';
import { Agent } from './agent.entity';
import { AgentCheckFields, AgentsRepository } from './agents.repository';

/**
 * How long a verified agent's context schema is trusted at dial before it is read again. A campaign of
 * 10,000 calls on one agent costs one GET /api/agents/{id} per this period (per worker), not one per
 * call; an agent edited in the Ultravox console is followed within it.
 */
export const AGENT_SCHEMA_TTL_MS = 10 * 60_000;

/** What the dialer learns: the variables to send (null: every key), or that Ultravox has no such agent. */
export type DialCheck = { known: true; variables: string[] | null } | { known: false; detail: string };

/** The variables an Ultravox agent's `callTemplate.contextSchema.properties` declares; null when none. */
export function declaredVariables(agent: UltravoxAgent): string[] | null {
  const properties = agent.callTemplate?.contextSchema?.properties;
  if (typeof properties !== 'object' || properties === null || Array.isArray(properties)) return null;
  // A name Postgres cannot store could not be filled from a request either (CONTRACT's edge rule).
  return Object.keys(properties)
    .filter((name) => !isUnstorableText(name))
    .sort();
}

const NOT_CHECKED: AgentCheckFields = {
  ultravoxCheck: 'not_checked',
  ultravoxCheckedAt: null,
  contextVariables: null,
};

/**
 * Checks agents against Ultravox (`GET /api/agents/{id}`, CONTRACT §7): when one is saved with a new
 * Ultravox id, and at dial when it was never verified or its stored context schema is older than
 * AGENT_SCHEMA_TTL_MS.
 */
@Injectable()
export class UltravoxAgentCheck {
  private readonly logger = new Logger(UltravoxAgentCheck.name);
  /** Dials of one agent that find its schema stale at once share one request. */
  private readonly inFlight = new Map<string, Promise<DialCheck>>();

  constructor(
    private readonly ultravox: UltravoxClient,
    private readonly secrets: AgencySecrets,
    private readonly agents: AgentsRepository,
  ) {}

  /**
   * At create or when `ultravox_agent_id` changes. Unknown at Ultravox (404) → 422
   * `ultravox_agent_not_found`. Ultravox unreachable → saved as `unverified` (checked again at dial).
   * A rejected key (401/403) → saved as `key_rejected`: the agency may have stored a key Ultravox
   * refuses on purpose (`skip_validation`, an account without credits), and refusing its agents would
   * leave it unable to set up anything; the dial says what Ultravox thinks of the key.
   */
  async onSave(agencyId: string, ultravoxAgentId: string): Promise<AgentCheckFields> {
    const apiKey = await this.secrets.ultravoxApiKey(agencyId);
    if (!apiKey) return NOT_CHECKED;
    try {
      const remote = await this.ultravox.getAgent(apiKey, ultravoxAgentId);
      return {
        ultravoxCheck: 'verified',
        ultravoxCheckedAt: new Date(),
        contextVariables: declaredVariables(remote),
      };
    } catch (err) {
      if (!(err instanceof UltravoxError)) throw err;
      if (err.failure === 'not_found') {
        throw ApiError.unprocessable(
          'ultravox_agent_not_found',
          `Ultravox has no agent ${ultravoxAgentId} on this account (GET /api/agents/${ultravoxAgentId} answered 404)`,
          { hint: "Copy the agent's id from the Ultravox console, on the account whose key is saved" },
        );
      }
      this.logger.warn({ msg: 'Ultravox agent not checked', agencyId, ultravoxAgentId, reason: err.message });
      return {
        ultravoxCheck: err.failure === 'rejected_key' ? 'key_rejected' : 'unverified',
        ultravoxCheckedAt: null,
        contextVariables: null,
      };
    }
  }

  /**
   * Before a dial: a verified agent with a fresh schema is taken as stored; otherwise Ultravox is asked
   * (and the answer stored). When Ultravox cannot be asked, the stored schema is used and the call is
   * placed: the creation itself then says what is wrong.
   */
  forDial(agent: Agent, apiKey: string, now: Date): Promise<DialCheck> {
    const fresh =
      agent.ultravoxCheck === 'verified' &&
      agent.ultravoxCheckedAt !== null &&
      now.getTime() - agent.ultravoxCheckedAt.getTime() < AGENT_SCHEMA_TTL_MS;
    if (fresh) return Promise.resolve({ known: true, variables: agent.contextVariables });
    const key = `${agent.id}:${agent.ultravoxAgentId}`;
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.readForDial(agent, apiKey, now).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  private async readForDial(agent: Agent, apiKey: string, now: Date): Promise<DialCheck> {
    try {
      const remote = await this.ultravox.getAgent(apiKey, agent.ultravoxAgentId);
      const variables = declaredVariables(remote);
      await this.agents.recordCheck(agent.id, agent.ultravoxAgentId, {
        ultravoxCheck: 'verified',
        ultravoxCheckedAt: now,
        contextVariables: variables,
      });
      return { known: true, variables };
    } catch (err) {
      if (!(err instanceof UltravoxError)) throw err;
      if (err.failure === 'not_found') {
        return { known: false, detail: `Ultravox has no agent ${agent.ultravoxAgentId} on this account` };
      }
      return { known: true, variables: agent.contextVariables };
    }
  }
}
