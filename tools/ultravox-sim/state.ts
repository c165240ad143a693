import { createHash } from 'node:crypto';
import {
  DeliveryAttempt,
  Fault,
  FaultInput,
  RecordedRequest,
  SimAccount,
  SimCall,
  SimWebhook,
  WebhookDrop,
  WebhookEvent,
} from './types';

/** Everything the simulator remembers. Accounts are keyed by the full API key: one key, one account. */
export class SimState {
  readonly accounts = new Map<string, SimAccount>();
  readonly requests: RecordedRequest[] = [];
  readonly deliveries: DeliveryAttempt[] = [];
  readonly faults: Fault[] = [];
  readonly drops: WebhookDrop[] = [];
  /** While `on`, calls that finished speaking wait here instead of ending (POST /_sim/hold-ends). */
  readonly endHold: { on: boolean; waiting: (() => void)[] } = { on: false, waiting: [] };
  private callSeq = 0;
  private faultSeq = 0;
  private dropSeq = 0;

  account(apiKey: string): SimAccount {
    let account = this.accounts.get(apiKey);
    if (!account) {
      account = {
        accountId: accountIdFor(apiKey),
        keyPrefix: apiKey.slice(0, 8),
        calls: new Map(),
        webhooks: new Map(),
        agents: new Map(),
        maxConcurrentLive: 0,
        allowedConcurrentCalls: null,
      };
      this.accounts.set(apiKey, account);
    }
    return account;
  }

  accountById(accountId: string): SimAccount | undefined {
    return [...this.accounts.values()].find((account) => account.accountId === accountId);
  }

  findCall(callId: string): { account: SimAccount; call: SimCall } | undefined {
    for (const account of this.accounts.values()) {
      const call = account.calls.get(callId);
      if (call) return { account, call };
    }
    return undefined;
  }

  nextCallSeq(): number {
    this.callSeq += 1;
    return this.callSeq;
  }

  addFault(input: FaultInput): Fault {
    this.faultSeq += 1;
    const fault: Fault = {
      id: this.faultSeq,
      method: input.method ? input.method.toUpperCase() : null,
      keyPrefix: input.keyPrefix ?? null,
      path: input.path,
      status: input.status,
      body: input.body,
      headers: input.headers ?? {},
      delayMs: input.delayMs ?? 0,
      remaining: input.times ?? 1,
    };
    this.faults.push(fault);
    return fault;
  }

  /** The first armed fault matching the request, with one use consumed. */
  takeFault(method: string, path: string, apiKey: string): Fault | undefined {
    const index = this.faults.findIndex((fault) => faultMatches(fault, method, path, apiKey));
    if (index < 0) return undefined;
    const fault = this.faults[index];
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults.splice(index, 1);
    return fault;
  }

  addDrop(event: WebhookEvent, callId: string | null, times: number): WebhookDrop {
    this.dropSeq += 1;
    const drop: WebhookDrop = { id: this.dropSeq, event, callId, remaining: times };
    this.drops.push(drop);
    return drop;
  }

  /** True when this first send of `event` for `callId` is to be lost (one use of the drop consumed). */
  takeDrop(event: WebhookEvent, callId: string): boolean {
    const index = this.drops.findIndex(
      (drop) => drop.event === event && (drop.callId === null || drop.callId === callId),
    );
    if (index < 0) return false;
    const drop = this.drops[index];
    drop.remaining -= 1;
    if (drop.remaining <= 0) this.drops.splice(index, 1);
    return true;
  }

  clear(): void {
    this.drops.length = 0;
    this.endHold.on = false;
    this.endHold.waiting.length = 0;
    this.accounts.clear();
    this.requests.length = 0;
    this.deliveries.length = 0;
    this.faults.length = 0;
  }
}

/** Failed attempts in a row that make a webhook `unhealthy`; failures GET /api/webhooks/{id} shows. */
export const UNHEALTHY_AFTER_FAILURES = 3;
export const RECENT_FAILURES_KEPT = 10;
/** Kept beside the webhook, not on it: GET /api/webhooks/{id} returns the webhook object as it is. */
const failuresInARow = new WeakMap<SimWebhook, number>();

/** The account's concurrent-call cap: its own when set through the control API, else the simulator's. */
export function allowedConcurrentCalls(account: SimAccount, simDefault: number): number {
  return account.allowedConcurrentCalls ?? simDefault;
}

/**
 * Records a delivery attempt's outcome on its webhook: a failure is kept in `recentFailures`, and
 * UNHEALTHY_AFTER_FAILURES failures in a row make it `unhealthy`; a success makes it `normal` again.
 */
export function recordWebhookOutcome(hook: SimWebhook, error: string | null, at: string): void {
  const inARow = error === null ? 0 : (failuresInARow.get(hook) ?? 0) + 1;
  failuresInARow.set(hook, inARow);
  if (error !== null) {
    hook.recentFailures.push({ timestamp: at, error });
    hook.recentFailures.splice(0, Math.max(0, hook.recentFailures.length - RECENT_FAILURES_KEPT));
  }
  const status = error === null ? 'normal' : inARow >= UNHEALTHY_AFTER_FAILURES ? 'unhealthy' : hook.status;
  if (status !== hook.status) {
    hook.status = status;
    hook.lastStatusChange = at;
  }
}

export function liveCallCount(account: SimAccount): number {
  return [...account.calls.values()].filter((sim) => sim.call.ended === null).length;
}

function faultMatches(fault: Fault, method: string, path: string, apiKey: string): boolean {
  if (fault.method !== null && fault.method !== method.toUpperCase()) return false;
  if (fault.keyPrefix !== null && !apiKey.startsWith(fault.keyPrefix)) return false;
  if (fault.path.endsWith('*')) return path.startsWith(fault.path.slice(0, -1));
  return path === fault.path;
}

/** Stable across restarts, so a demo that stored the accountId still finds it. */
function accountIdFor(apiKey: string): string {
  const hex = createHash('sha256').update(apiKey).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
