import { FastifyInstance } from 'fastify';
import { accountOf } from './api-http';
import { SimState } from './state';
import { JsonObject, SimAccount, SimAgent } from './types';
import { isObject } from './validation';

const NOT_FOUND = { detail: 'Not found.' };
const IMPLICIT_CREATED = '2026-01-01T00:00:00.000Z';

/**
 * The account's agent, or null when Ultravox would answer 404. Simulator convention (README): agents
 * made with `POST /_sim/agents` are the account's; any other id exists implicitly, without a context
 * schema, except ids starting with `00000000`.
 */
export function agentOf(account: SimAccount, agentId: string): SimAgent | null {
  const known = account.agents.get(agentId);
  if (known) return known;
  if (agentId.startsWith('00000000')) return null;
  return {
    agentId,
    name: `Sim Agent ${agentId.slice(0, 8)}`,
    created: IMPLICIT_CREATED,
    callTemplate: { contextSchema: null },
  };
}

/**
 * Ultravox: "Call creation requests must provide context adhering to this schema." The simulator is
 * strict where the real service may be: a key the schema's `properties` does not declare is refused
 * (400). Null when the context adheres, or the agent declares no schema.
 */
export function undeclaredContextKeys(agent: SimAgent, templateContext: JsonObject): string | null {
  const properties = agent.callTemplate.contextSchema?.properties;
  if (!isObject(properties)) return null;
  const extra = Object.keys(templateContext).filter((key) => !Object.hasOwn(properties, key));
  if (extra.length === 0) return null;
  return `templateContext: ${extra.map((key) => `"${key}"`).join(', ')} not declared in the agent's contextSchema (additional properties are not allowed).`;
}

/** The agent as GET /api/agents/{id} shows it (reference/ultravox-api.md, Agents). */
export function agentView(agent: SimAgent): JsonObject {
  const callTemplate: JsonObject = agent.callTemplate.contextSchema
    ? { contextSchema: agent.callTemplate.contextSchema }
    : {};
  return { agentId: agent.agentId, name: agent.name, created: agent.created, callTemplate };
}

export function registerAgentRoutes(app: FastifyInstance, state: SimState): void {
  app.get<{ Params: { agentId: string } }>('/api/agents/:agentId', async (request, reply) => {
    const agent = agentOf(accountOf(state, request), request.params.agentId);
    return agent ? agentView(agent) : reply.code(404).send(NOT_FOUND);
  });
}
