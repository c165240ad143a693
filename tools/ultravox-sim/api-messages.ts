import { FastifyInstance, FastifyReply } from 'fastify';
import { accountOf, pageOrError, pageRequest } from './api-http';
import { QueryParams, first, paginate } from './pagination';
import { SimState } from './state';
import { SimCall, UltravoxMessage } from './types';

export interface MessageRoutesDeps {
  state: SimState;
  messagesPageSize: number;
}

const NOT_FOUND = { detail: 'Not found.' };
const MODES = new Set(['last_stage', 'in_call']);

type CallParams = { Params: { callId: string }; Querystring: QueryParams };
type StageParams = { Params: { callId: string; stageId: string }; Querystring: QueryParams };

/**
 * A call's transcript and stages (reference "Transcript"): `/messages` lists only what has been
 * "spoken" so far; `mode=last_stage` (the default) only the call's current stage, `mode=in_call` every
 * stage. The simulator writes no initial messages, so `in_call` has nothing to leave out.
 */
export function registerMessageRoutes(app: FastifyInstance, deps: MessageRoutesDeps): void {
  const { state } = deps;
  app.get<CallParams>('/api/calls/:callId/messages', async (request, reply) => {
    const sim = accountOf(state, request).calls.get(request.params.callId);
    if (!sim) return reply.code(404).send(NOT_FOUND);
    const mode = first(request.query.mode) ?? 'last_stage';
    if (!MODES.has(mode))
      return reply.code(400).send({ detail: { mode: [`"${mode}" is not a valid choice.`] } });
    const stageId = mode === 'in_call' ? null : currentStage(sim);
    return pageOf(sim, stageId, request, reply, deps.messagesPageSize);
  });

  app.get<CallParams>('/api/calls/:callId/stages', async (request, reply) => {
    const sim = accountOf(state, request).calls.get(request.params.callId);
    if (!sim) return reply.code(404).send(NOT_FOUND);
    const stages = sim.stages;
    return pageOrError(reply, () =>
      paginate(stages, (stage) => stages.indexOf(stage), pageRequest(request, 100)),
    );
  });

  app.get<StageParams>('/api/calls/:callId/stages/:stageId/messages', async (request, reply) => {
    const sim = accountOf(state, request).calls.get(request.params.callId);
    if (!sim) return reply.code(404).send(NOT_FOUND);
    if (!sim.stages.some((stage) => stage.callStageId === request.params.stageId)) {
      return reply.code(404).send(NOT_FOUND);
    }
    return pageOf(sim, request.params.stageId, request, reply, deps.messagesPageSize);
  });
}

/** The stage the call is in now: the last it reached. */
function currentStage(sim: SimCall): string {
  return sim.stages[sim.stages.length - 1].callStageId;
}

/** The spoken messages (of one stage, or all when `stageId` is null), paged by position in the call. */
function pageOf(
  sim: SimCall,
  stageId: string | null,
  request: Parameters<typeof pageRequest>[0],
  reply: FastifyReply,
  pageSize: number,
) {
  const rank = new Map<UltravoxMessage, number>(sim.script.map((message, index) => [message, index]));
  const spoken = sim.script
    .slice(0, sim.spoken)
    .filter((message) => stageId === null || message.callStageId === stageId);
  return pageOrError(reply, () =>
    paginate(spoken, (message) => rank.get(message) ?? 0, pageRequest(request, pageSize)),
  );
}
