import { randomUUID } from 'node:crypto';
import { FastifyInstance } from 'fastify';
import { agentOf, undeclaredContextKeys } from './api-agents';
import { accountOf, mapPage, pageOrError, pageRequest } from './api-http';
import { CallRunner, customerName } from './call-runner';
import { QueryParams, first, paginate } from './pagination';
import { buildScript, scenarioFor, stageCount } from './scenarios';
import { allowedConcurrentCalls, liveCallCount, SimState } from './state';
import { SimAccount, SimCall, UltravoxCall } from './types';
import { CreateCallInput, checkCreateCall } from './validation';

export interface CallRoutesDeps {
  state: SimState;
  runner: CallRunner;
  maxConcurrentCalls: number;
}

const NOT_FOUND = { detail: 'Not found.' };
const FREE_SECONDS = 1800;

type CallParams = { Params: { callId: string }; Querystring: QueryParams };

export function registerCallRoutes(app: FastifyInstance, deps: CallRoutesDeps): void {
  const { state } = deps;

  app.get('/api/accounts/me', async (request) => {
    const account = accountOf(state, request);
    const used = [...account.calls.values()].reduce((sum, sim) => sum + seconds(sim.call.billedDuration), 0);
    return {
      accountId: account.accountId,
      name: `Sim account ${account.keyPrefix}`,
      billingUrl: 'https://app.ultravox.ai/billing',
      freeTimeUsed: `${used}s`,
      freeTimeRemaining: `${Math.max(0, FREE_SECONDS - used)}s`,
      hasActiveSubscription: false,
      subscriptionTier: null,
      activeCalls: liveCallCount(account),
      allowedConcurrentCalls: allowedConcurrentCalls(account, deps.maxConcurrentCalls),
    };
  });

  // Filtering by `metadata.<key>=<value>` (exact match) follows the form shown in Ultravox's "Call
  // Management" guide (docs.ultravox.ai/agents/call-management); the API reference does not list it.
  app.get<{ Querystring: QueryParams }>('/api/calls', async (request, reply) => {
    const filters = Object.entries(request.query)
      .filter(([key]) => key.startsWith('metadata.'))
      .map(([key, value]) => [key.slice('metadata.'.length), first(value)] as const);
    // Newest first. The real list's order is not documented; clients must not depend on it.
    const calls = [...accountOf(state, request).calls.values()]
      .filter((sim) => filters.every(([key, value]) => sim.call.metadata[key] === value))
      .sort((a, b) => b.seq - a.seq);
    return pageOrError(reply, () =>
      mapPage(
        paginate(calls, (sim) => -sim.seq, pageRequest(request, 100)),
        (sim) => sim.call,
      ),
    );
  });

  app.get<CallParams>('/api/calls/:callId', async (request, reply) => {
    const sim = accountOf(state, request).calls.get(request.params.callId);
    return sim ? sim.call : reply.code(404).send(NOT_FOUND);
  });

  app.post<{ Params: { agentId: string }; Body: unknown }>(
    '/api/agents/:agentId/calls',
    async (request, reply) => {
      const { agentId } = request.params;
      const account = accountOf(state, request);
      const agent = agentOf(account, agentId);
      if (!agent) return reply.code(404).send(NOT_FOUND);
      const checked = checkCreateCall(request.body);
      if (!checked.ok) return reply.code(400).send({ detail: checked.detail });
      const undeclared = undeclaredContextKeys(agent, checked.value.templateContext);
      if (undeclared) return reply.code(400).send({ detail: undeclared });
      const allowed = allowedConcurrentCalls(account, deps.maxConcurrentCalls);
      if (liveCallCount(account) >= allowed) {
        return reply
          .code(429)
          .header('Retry-After', '1')
          .send({ detail: `Too many concurrent calls: this account allows ${allowed}.` });
      }
      const sim = createCall(state, account, agentId, checked.value);
      deps.runner.start(account, sim);
      return reply.code(201).send(sim.call);
    },
  );
}

/** A new call on the account, not yet started (CallRunner.start plays it out). */
export function createCall(
  state: SimState,
  account: SimAccount,
  agentId: string,
  input: CreateCallInput,
): SimCall {
  const call: UltravoxCall = {
    callId: randomUUID(),
    created: new Date().toISOString(),
    joined: null,
    ended: null,
    endReason: null,
    billedDuration: null,
    billingStatus: 'BILLING_STATUS_PENDING',
    shortSummary: null,
    summary: null,
    metadata: input.metadata,
    medium: input.medium,
    templateContext: input.templateContext,
    firstSpeakerSettings: input.firstSpeakerSettings ?? { agent: {} },
    agentId,
    agent: { agentId, name: account.agents.get(agentId)?.name ?? `Sim Agent ${agentId.slice(0, 8)}` },
    maxDuration: input.maxDuration ?? '3600s',
    joinTimeout: '30s',
    recordingEnabled: input.recordingEnabled,
    sipDetails: null,
  };
  const sim: SimCall = {
    seq: state.nextCallSeq(),
    accountId: account.accountId,
    scenario: scenarioFor(input.to),
    phase: 'created',
    call,
    script: [],
    stages: [{ callId: call.callId, callStageId: randomUUID(), created: call.created }],
    spoken: 0,
    sentBodies: new Map(),
    forgotten: false,
  };
  // The first stage is the call's own; the later ones exist once the call reaches them.
  const stageIds = [
    sim.stages[0].callStageId,
    ...Array.from({ length: stageCount(sim.scenario) - 1 }, () => randomUUID()),
  ];
  sim.script = buildScript(sim.scenario, customerName(sim), stageIds);
  account.calls.set(call.callId, sim);
  account.maxConcurrentLive = Math.max(account.maxConcurrentLive, liveCallCount(account));
  return sim;
}

function seconds(duration: string | null): number {
  return duration === null ? 0 : Math.ceil(Number.parseFloat(duration));
}
