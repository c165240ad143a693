import { FastifyInstance } from 'fastify';
import { Scheduler } from './scheduler';
import { isValidApiKey } from './api-http';
import { allowedConcurrentCalls, liveCallCount, SimState } from './state';
import {
  DeliveryAttempt,
  Fault,
  FaultInput,
  RecordedRequest,
  SimCall,
  SimWebhook,
  UltravoxCall,
  WEBHOOK_EVENTS,
  WebhookDrop,
  WebhookEvent,
} from './types';
import { checkFault, isObject } from './validation';
import { WebhookSender } from './webhook-sender';

export interface SimCallView {
  accountId: string;
  keyPrefix: string;
  scenario: SimCall['scenario'];
  phase: SimCall['phase'];
  messagesSpoken: number;
  messagesTotal: number;
  call: UltravoxCall;
}

export interface SimAccountView {
  accountId: string;
  keyPrefix: string;
  liveCalls: number;
  maxConcurrentLive: number;
  /** What `GET /api/accounts/me` reports and the 429 of call creation enforces. */
  allowedConcurrentCalls: number;
  webhooks: SimWebhook[];
}

export interface SimCallsView {
  accounts: SimAccountView[];
  calls: SimCallView[];
}

/** A control request the simulator cannot honour; the error handler answers `statusCode` with `{detail}`. */
export class SimControlError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** The test/demo controls, shared by the `/_sim/*` routes and the object startUltravoxSim returns. */
export class SimControl {
  constructor(
    private readonly state: SimState,
    private readonly scheduler: Scheduler,
    private readonly sender: WebhookSender,
    private readonly maxConcurrentCalls: number,
  ) {}

  addFault(input: FaultInput): Fault {
    const checked = checkFault(input);
    if (!checked.ok) throw new SimControlError(400, checked.detail);
    return this.state.addFault(checked.value);
  }

  faults(): Fault[] {
    return [...this.state.faults];
  }

  clearFaults(): void {
    this.state.faults.length = 0;
  }

  requests(): RecordedRequest[] {
    return [...this.state.requests];
  }

  clearRequests(): void {
    this.state.requests.length = 0;
  }

  deliveries(): DeliveryAttempt[] {
    return [...this.state.deliveries];
  }

  calls(): SimCallsView {
    const accounts = [...this.state.accounts.values()];
    return {
      accounts: accounts.map((account) => ({
        accountId: account.accountId,
        keyPrefix: account.keyPrefix,
        liveCalls: liveCallCount(account),
        maxConcurrentLive: account.maxConcurrentLive,
        allowedConcurrentCalls: allowedConcurrentCalls(account, this.maxConcurrentCalls),
        webhooks: [...account.webhooks.values()],
      })),
      calls: accounts
        .flatMap((account) => [...account.calls.values()].map((sim) => ({ account, sim })))
        .sort((a, b) => a.sim.seq - b.sim.seq)
        .map(({ account, sim }) => ({
          accountId: account.accountId,
          keyPrefix: account.keyPrefix,
          scenario: sim.scenario,
          phase: sim.phase,
          messagesSpoken: sim.spoken,
          messagesTotal: sim.script.length,
          call: sim.call,
        })),
    };
  }

  /** Stops every call and pending retry, then forgets all accounts, faults, requests and deliveries. */
  reset(): void {
    this.scheduler.cancelAll();
    this.state.clear();
  }

  /** Sends the event again to the call's matching webhooks; resolves when those attempts are done. */
  resend(callId: string, event: string): Promise<DeliveryAttempt[]> {
    const known = knownEvent(event);
    const found = this.state.findCall(callId);
    if (!found) throw new SimControlError(404, 'Not found.');
    return this.sender.resend(found.account, found.call, known);
  }

  /**
   * Loses the next `times` (default 1) first sends of `event`, for `callId` or for any call: never
   * delivered nor retried, as when Ultravox gives up. `resend` still sends the lost body later.
   */
  dropWebhooks(input: { event: string; callId?: string | null; times?: number }): WebhookDrop {
    const times = input.times ?? 1;
    if (!Number.isInteger(times) || times < 1) {
      throw new SimControlError(400, 'times: must be a positive integer.');
    }
    if (input.callId !== undefined && input.callId !== null && typeof input.callId !== 'string') {
      throw new SimControlError(400, 'callId: must be a string.');
    }
    return this.state.addDrop(knownEvent(input.event), input.callId ?? null, times);
  }

  drops(): WebhookDrop[] {
    return [...this.state.drops];
  }

  /** Deletes a webhook as if in the Ultravox console: GET answers 404 and nothing is sent to it any more. */
  deleteWebhook(webhookId: string): void {
    const account = [...this.state.accounts.values()].find((a) => a.webhooks.has(webhookId));
    if (!account) throw new SimControlError(404, 'Not found.');
    account.webhooks.delete(webhookId);
  }

  /**
   * The concurrent calls the key's account allows (`allowedConcurrentCalls` of GET /api/accounts/me and
   * the 429 of call creation); null goes back to the simulator's `maxConcurrentCalls`.
   */
  setAllowedConcurrentCalls(apiKey: string, allowed: number | null): SimAccountView {
    if (typeof apiKey !== 'string' || !isValidApiKey(apiKey)) {
      throw new SimControlError(400, 'apiKey: must be a valid key.');
    }
    if (allowed !== null && (!Number.isInteger(allowed) || allowed < 0)) {
      throw new SimControlError(400, 'allowedConcurrentCalls: must be a non-negative integer or null.');
    }
    const account = this.state.account(apiKey);
    account.allowedConcurrentCalls = allowed;
    const view = this.calls().accounts.find((a) => a.accountId === account.accountId);
    return view as SimAccountView;
  }

  /** Ultravox no longer knows the call: GET answers 404 and it sends no more webhooks. */
  forget(callId: string): void {
    const found = this.state.findCall(callId);
    if (!found) throw new SimControlError(404, 'Not found.');
    found.call.forgotten = true;
    found.account.calls.delete(callId);
  }
}

function knownEvent(event: string): WebhookEvent {
  const known = WEBHOOK_EVENTS.find((name) => name === event);
  if (known === undefined) throw new SimControlError(400, `event: "${event}" is not a known event.`);
  return known;
}

export function registerControlRoutes(app: FastifyInstance, control: SimControl): void {
  app.post<{ Body: unknown }>('/_sim/faults', async (request, reply) => {
    return reply.code(201).send(control.addFault(request.body as FaultInput));
  });
  app.get('/_sim/faults', async () => ({ faults: control.faults() }));
  app.delete('/_sim/faults', async (_request, reply) => {
    control.clearFaults();
    return reply.code(204).send();
  });
  app.get('/_sim/requests', async () => ({ requests: control.requests() }));
  app.delete('/_sim/requests', async (_request, reply) => {
    control.clearRequests();
    return reply.code(204).send();
  });
  app.get('/_sim/calls', async () => control.calls());
  app.get('/_sim/webhook-deliveries', async () => ({ deliveries: control.deliveries() }));
  app.post('/_sim/reset', async (_request, reply) => {
    control.reset();
    return reply.code(204).send();
  });
  app.post<{ Params: { callId: string }; Body: unknown }>('/_sim/calls/:callId/resend', async (request) => {
    const event = isObject(request.body) ? request.body.event : undefined;
    return { deliveries: await control.resend(request.params.callId, String(event)) };
  });
  app.post<{ Body: unknown }>('/_sim/webhook-drops', async (request, reply) => {
    const body = isObject(request.body) ? request.body : {};
    const drop = control.dropWebhooks({
      event: String(body.event),
      callId: body.callId as string | undefined,
      times: body.times as number | undefined,
    });
    return reply.code(201).send(drop);
  });
  app.get('/_sim/webhook-drops', async () => ({ drops: control.drops() }));
  app.delete<{ Params: { webhookId: string } }>('/_sim/webhooks/:webhookId', async (request, reply) => {
    control.deleteWebhook(request.params.webhookId);
    return reply.code(204).send();
  });
  app.put<{ Body: unknown }>('/_sim/accounts/concurrency', async (request) => {
    const body = isObject(request.body) ? request.body : {};
    return control.setAllowedConcurrentCalls(
      body.apiKey as string,
      (body.allowedConcurrentCalls ?? null) as number | null,
    );
  });
  app.post<{ Params: { callId: string } }>('/_sim/calls/:callId/forget', async (request, reply) => {
    control.forget(request.params.callId);
    return reply.code(204).send();
  });
}
