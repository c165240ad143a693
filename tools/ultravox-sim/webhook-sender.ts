import { request } from 'undici';
import { Scheduler } from './scheduler';
import { ultravoxSignatureHeader } from './signing';
import { recordWebhookOutcome, SimState } from './state';
import { DeliveryAttempt, SimAccount, SimCall, SimWebhook, WebhookEvent } from './types';

export interface SenderOptions {
  retries: number;
  retryDelayMs: number;
  timeoutMs: number;
}

/**
 * Posts `{event, call}` to the account's matching webhooks, signed like Ultravox. Retries are a few and
 * fast (the real service waits 30 s and doubles): enough for tests to see a receiver's 5xx retried.
 */
export class WebhookSender {
  constructor(
    private readonly state: SimState,
    private readonly scheduler: Scheduler,
    private readonly options: SenderOptions,
  ) {}

  /**
   * The first send of an event: its body is kept so a later resend carries the very same bytes. A
   * forgotten call sends nothing; a dropped event is kept for a resend but not delivered (lost).
   */
  send(account: SimAccount, sim: SimCall, event: WebhookEvent): Promise<DeliveryAttempt[]> {
    if (sim.forgotten) return Promise.resolve([]);
    const body = JSON.stringify({ event, call: sim.call });
    sim.sentBodies.set(event, body);
    if (this.state.takeDrop(event, sim.call.callId)) return Promise.resolve([]);
    return this.deliverToAll(account, sim, event, body, false);
  }

  /** Sends the event again: the stored body when it was sent before, else the call as it is now. */
  resend(account: SimAccount, sim: SimCall, event: WebhookEvent): Promise<DeliveryAttempt[]> {
    const body = sim.sentBodies.get(event) ?? JSON.stringify({ event, call: sim.call });
    return this.deliverToAll(account, sim, event, body, true);
  }

  private async deliverToAll(
    account: SimAccount,
    sim: SimCall,
    event: WebhookEvent,
    body: string,
    resend: boolean,
  ): Promise<DeliveryAttempt[]> {
    const targets = [...account.webhooks.values()].filter(
      (hook) => hook.events.includes(event) && (hook.agentId === null || hook.agentId === sim.call.agentId),
    );
    const results = await Promise.all(
      targets.map((hook) => this.deliver(hook, event, sim.call.callId, body, resend)),
    );
    return results.flat();
  }

  private async deliver(
    hook: SimWebhook,
    event: WebhookEvent,
    callId: string,
    body: string,
    resend: boolean,
  ): Promise<DeliveryAttempt[]> {
    const attempts: DeliveryAttempt[] = [];
    for (let attempt = 1; attempt <= this.options.retries + 1; attempt += 1) {
      const outcome = await this.post(hook, body);
      if (outcome === 'cancelled') break;
      const record: DeliveryAttempt = {
        event,
        callId,
        webhookId: hook.webhookId,
        url: hook.url,
        attempt,
        ...outcome,
        resend,
        at: new Date().toISOString(),
      };
      this.state.deliveries.push(record);
      attempts.push(record);
      const delivered = record.status !== null && record.status >= 200 && record.status < 300;
      recordWebhookOutcome(hook, delivered ? null : (record.error ?? `HTTP ${record.status}`), record.at);
      if (delivered) break;
      if (attempt <= this.options.retries) {
        const waited = await this.scheduler.sleep(this.options.retryDelayMs * 2 ** (attempt - 1));
        if (!waited) break;
      }
    }
    return attempts;
  }

  /** Signs at send time: each attempt gets a fresh timestamp so receivers' freshness checks pass. */
  private async post(
    hook: SimWebhook,
    body: string,
  ): Promise<{ status: number | null; error: string | null } | 'cancelled'> {
    const timestamp = new Date().toISOString();
    const { signal, release } = this.scheduler.signal();
    try {
      const response = await request(hook.url, {
        method: 'POST',
        body,
        signal,
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
        headers: signedHeaders(hook.secrets, body, timestamp),
      });
      await response.body.dump();
      return { status: response.statusCode, error: null };
    } catch (error) {
      if (signal.aborted) return 'cancelled';
      return { status: null, error: error instanceof Error ? error.message : String(error) };
    } finally {
      release();
    }
  }
}

function signedHeaders(secrets: readonly string[], body: string, timestamp: string): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-ultravox-webhook-timestamp': timestamp,
  };
  // A webhook whose secrets were all removed is sent unsigned rather than with an empty signature.
  if (secrets.length > 0)
    headers['x-ultravox-webhook-signature'] = ultravoxSignatureHeader(secrets, body, timestamp);
  return headers;
}
