import { Inject, Injectable } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import { AgencySecrets } from '../../agencies/agency-secrets';
import { USER_AGENT } from '../../common/version';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { Metrics } from '../../metrics/metrics';
import { DeliveryHttpClient, DeliveryResult } from './delivery-http.client';
import { ClaimedDelivery, DeliveriesRepository } from './deliveries.repository';
import { standardWebhookSignature, xSignature } from './signer';

/** Thrown to let BullMQ schedule the next attempt; the delay comes from WEBHOOK_RETRY_DELAYS. */
export class RetryLater extends Error {
  constructor(
    readonly retryDelayMs: number,
    reason: string,
    readonly result: DeliveryResult,
  ) {
    super(reason);
  }
}

/** Thrown when the attempt failed and no automatic retry follows (BullMQ does not retry it). */
export class DeliveryFailed extends UnrecoverableError {
  constructor(
    reason: string,
    readonly result: DeliveryResult,
  ) {
    super(reason);
  }
}

/** What the receiver answered, from an attempt's outcome (returned, or thrown when it failed). */
export function attemptResultOf(outcome: unknown): DeliveryResult | null {
  if (outcome instanceof RetryLater || outcome instanceof DeliveryFailed) return outcome.result;
  return null;
}

/** One delivery attempt: claim, sign, POST, record — and decide what happens next. */
@Injectable()
export class DeliveryAttemptService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly deliveries: DeliveriesRepository,
    private readonly http: DeliveryHttpClient,
    private readonly secrets: AgencySecrets,
    private readonly metrics: Metrics,
  ) {}

  /**
   * The receiver's answer when it succeeded; null when there was nothing to attempt. A failed attempt
   * throws RetryLater or DeliveryFailed, which carry the answer.
   */
  async attempt(deliveryId: string, manual = false): Promise<DeliveryResult | null> {
    const target = await this.deliveries.claim({ deliveryId, manual });
    if (!target) {
      if (!manual) await this.deliveries.settleIfEndpointDisabled(deliveryId);
      return null;
    }
    const at = new Date();
    const result = await this.http.post(target.url, this.headers(target, at), target.payload);
    this.metrics.deliveryAttempt(result);
    await this.record(target, at, result, manual);
    return result;
  }

  private headers(target: ClaimedDelivery, at: Date): Record<string, string> {
    const timestamp = Math.floor(at.getTime() / 1000);
    const current = this.secrets.endpointSecret(target.endpoint_id, target.secret_encrypted);
    const secrets = [current];
    if (
      target.previous_secret_encrypted &&
      target.previous_secret_expires_at &&
      target.previous_secret_expires_at > at
    ) {
      secrets.push(this.secrets.endpointSecret(target.endpoint_id, target.previous_secret_encrypted));
    }
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      'webhook-id': target.event_id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': standardWebhookSignature(secrets, target.event_id, timestamp, target.payload),
    };
    // CONTRACT §6: the integration page's endpoint is keyed by the agency's current API key.
    const key =
      target.kind === 'integration'
        ? target.api_key_encrypted &&
          this.secrets.decrypt('api_key', target.agency_id, target.api_key_encrypted)
        : current;
    if (key) headers['x-signature'] = xSignature(key, target.payload);
    return headers;
  }

  /**
   * Logs the attempt and moves the delivery on: succeeded; pending again while automatic retries are
   * left (none after a 410 or by hand); otherwise failed — except that a by-hand retry of a pending
   * delivery leaves its schedule alone unless the endpoint is gone.
   */
  private async record(
    target: ClaimedDelivery,
    at: Date,
    result: DeliveryResult,
    manual: boolean,
  ): Promise<void> {
    const attempt = { delivery: target, at, result };
    if (result.ok) return this.deliveries.succeed(attempt);
    const delays = this.config.webhooks.retryDelaysMs;
    const gone = result.statusCode === 410;
    const reason = result.error ?? 'delivery failed';
    if (!gone && !manual && target.scheduled_attempt <= delays.length) {
      const retryIn = delays[target.scheduled_attempt - 1];
      await this.deliveries.retryLater(attempt, retryIn);
      throw new RetryLater(retryIn, reason, result);
    }
    if (!manual || gone || target.status === 'failed') await this.deliveries.fail(attempt);
    else await this.deliveries.logAttempt(attempt);
    throw new DeliveryFailed(reason, result);
  }
}
