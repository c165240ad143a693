import { randomUUID } from 'node:crypto';
import { FastifyInstance } from 'fastify';
import { agentView } from './api-agents';
import { isValidApiKey } from './api-http';
import { createCall } from './api-calls';
import { CallRunner } from './call-runner';
import { SimControlError } from './control';
import { SimState } from './state';
import { Json, JsonObject, UltravoxCall } from './types';
import { isObject } from './validation';

const E164 = /^\+[1-9]\d{6,14}$/;

export interface AddAgentInput {
  /** The account's API key (one key, one account). */
  apiKey: string;
  agentId?: string;
  name?: string;
  /** JSON schema of the agent's template variables (`callTemplate.contextSchema`); its `properties` count. */
  contextSchema?: JsonObject | null;
}

export interface ConsoleCallInput {
  apiKey: string;
  /** The agent the call runs on; a fresh id when absent (an agent nobody registered). */
  agentId?: string;
  /** The caller: the call is an incoming phone call (`medium.twilio.incoming.from`); absent = a WebRTC console call. */
  from?: string;
  /** The number called, for an incoming phone call; default +15550000000. */
  to?: string;
}

/**
 * The simulator's agents and the calls Switchboard does not place: test calls from the Ultravox console
 * and incoming phone calls, on the same account, whose webhooks go to every webhook of the account.
 */
export class SimAgentsControl {
  constructor(
    private readonly state: SimState,
    private readonly runner: CallRunner,
  ) {}

  addAgent(input: AddAgentInput): JsonObject {
    const account = this.state.account(checkKey(input.apiKey));
    const { contextSchema } = input;
    if (contextSchema !== undefined && contextSchema !== null && !isObject(contextSchema)) {
      throw new SimControlError(400, 'contextSchema: must be a JSON schema object or null.');
    }
    const agentId = optionalString(input.agentId, 'agentId') ?? randomUUID();
    const agent = {
      agentId,
      name: optionalString(input.name, 'name') ?? `Sim Agent ${agentId.slice(0, 8)}`,
      created: new Date().toISOString(),
      callTemplate: { contextSchema: contextSchema ?? null },
    };
    account.agents.set(agentId, agent);
    return agentView(agent);
  }

  /** Starts a call nobody placed through the API: no metadata, played out like any other call. */
  consoleCall(input: ConsoleCallInput): UltravoxCall {
    const account = this.state.account(checkKey(input.apiKey));
    const from = optionalString(input.from, 'from');
    const to = optionalString(input.to, 'to') ?? '+15550000000';
    for (const [field, number] of [
      ['from', from],
      ['to', to],
    ] as const) {
      if (number !== undefined && !E164.test(number)) {
        throw new SimControlError(400, `${field}: must be an E.164 phone number such as +15551234567.`);
      }
    }
    const medium: JsonObject = from ? { twilio: { incoming: { from, to } } } : { webRtc: {} };
    const sim = createCall(this.state, account, optionalString(input.agentId, 'agentId') ?? randomUUID(), {
      medium,
      // The scenario follows the caller's last four digits, as an outgoing call's follows the callee's.
      to: from ?? '',
      metadata: {},
      templateContext: {},
      firstSpeakerSettings: undefined,
      maxDuration: undefined,
      recordingEnabled: false,
    });
    this.runner.start(account, sim);
    return sim.call;
  }
}

function checkKey(apiKey: unknown): string {
  if (typeof apiKey !== 'string' || !isValidApiKey(apiKey)) {
    throw new SimControlError(400, 'apiKey: a valid API key of the account is required.');
  }
  return apiKey;
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value === '')
    throw new SimControlError(400, `${field}: must be a string.`);
  return value;
}

export function registerAgentControlRoutes(app: FastifyInstance, control: SimAgentsControl): void {
  const body = (raw: unknown): Record<string, Json> => (isObject(raw) ? raw : {});
  app.post<{ Body: unknown }>('/_sim/agents', async (request, reply) => {
    return reply.code(201).send(control.addAgent(body(request.body) as unknown as AddAgentInput));
  });
  app.post<{ Body: unknown }>('/_sim/console-calls', async (request, reply) => {
    return reply.code(201).send(control.consoleCall(body(request.body) as unknown as ConsoleCallInput));
  });
}
