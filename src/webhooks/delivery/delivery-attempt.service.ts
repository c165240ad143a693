import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { UnrecoverableError } from 'bullmq';
import { DataSource } from 'typeorm';
import { agencySecretContext } from '../../agencies/agencies.service';
import { SecretBox } from '../../common/crypto/secret-box';
import { USER_AGENT } from '../../common/version';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { endpointSecretContext } from '../endpoints/endpoint-secrets';
import { DeliveryHttpClient, DeliveryResult } from './delivery-http.client';
import { standardWebhookSignature, xSignature } from './signer';

/** Thrown to let BullMQ schedule the next attempt; the delay comes from WEBHOOK_RETRY_DELAYS. */
export class RetryLater extends Error {
  constructor(
    readonly retryDelayMs: number,
    reason: string,
  ) {
    super(reason);
  }
}

interface Target {
  id: string;
  agency_id: string;
  status: string;
  event_id: string;
  payload: string;
  endpoint_id: string;
  kind: string;
  url: string;
  active: boolean;
  secret_encrypted: string;
  previous_secret_encrypted: string | null;
  previous_secret_expires_at: Date | null;
  api_key_encrypted: string | null;
}

/** One delivery attempt: load, sign, POST, record — and decide what happens next. */
@Injectable()
export class DeliveryAttemptService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly http: DeliveryHttpClient,
    private readonly secretBox: SecretBox,
  ) {}

  async attempt(deliveryId: string, manual = false): Promise<void> {
    const target = await this.load(deliveryId);
    if (!target || target.status === 'succeeded' || (target.status === 'failed' && !manual)) return;
    if (!target.active && !manual) {
      await this.settle(deliveryId, 'failed');
      return;
    }
    // Reserve the attempt number first: two attempts of one delivery (a manual retry racing a scheduled
    // one) then record under different numbers. A SELECT over the CTE, because TypeORM hands back
    // UPDATE … RETURNING as [rows, count].
    const [{ attempt_count: attempt }] = (await this.dataSource.query(
      `WITH reserved AS (
         UPDATE webhook_deliveries SET attempt_count = attempt_count + 1, updated_at = now() WHERE id = $1
         RETURNING attempt_count)
       SELECT attempt_count FROM reserved`,
      [deliveryId],
    )) as [{ attempt_count: number }];
    const at = new Date();
    const result = await this.http.post(target.url, this.headers(target, at), target.payload);
    await this.record(target, attempt, at, result, manual);
  }

  private headers(target: Target, at: Date): Record<string, string> {
    const timestamp = Math.floor(at.getTime() / 1000);
    const context = endpointSecretContext(target.endpoint_id);
    const current = this.secretBox.decrypt(target.secret_encrypted, context);
    const secrets = [current];
    if (
      target.previous_secret_encrypted &&
      target.previous_secret_expires_at &&
      target.previous_secret_expires_at > at
    ) {
      secrets.push(this.secretBox.decrypt(target.previous_secret_encrypted, context));
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
          this.secretBox.decrypt(target.api_key_encrypted, agencySecretContext(target.agency_id, 'api_key'))
        : current;
    if (key) headers['x-signature'] = xSignature(key, target.payload);
    return headers;
  }

  private async record(
    target: Target,
    attempt: number,
    at: Date,
    result: DeliveryResult,
    manual: boolean,
  ): Promise<void> {
    const delays = this.config.webhooks.retryDelaysMs;
    const gone = result.statusCode === 410;
    const retryIn = !result.ok && !gone && !manual && attempt <= delays.length ? delays[attempt - 1] : null;
    await this.dataSource.transaction(async (em) => {
      await em.query(
        `INSERT INTO webhook_delivery_attempts (delivery_id, attempt, at, status_code, duration_ms, error, response_excerpt)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [target.id, attempt, at, result.statusCode, result.durationMs, result.error, result.responseExcerpt],
      );
      if (result.ok) {
        await em.query(
          `UPDATE webhook_deliveries SET status = 'succeeded', next_attempt_at = NULL WHERE id = $1`,
          [target.id],
        );
      } else if (retryIn !== null) {
        await em.query(
          `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now() + $2 * interval '1 millisecond' WHERE id = $1`,
          [target.id, retryIn],
        );
      } else if (!manual || gone || target.status === 'failed') {
        await em.query(
          `UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL WHERE id = $1`,
          [target.id],
        );
      }
      if (gone) {
        await em.query(
          `UPDATE webhook_endpoints SET active = false, disabled_reason = $2, updated_at = now() WHERE id = $1`,
          [target.endpoint_id, 'receiver answered 410 Gone'],
        );
      }
    });
    if (result.ok) return;
    if (retryIn !== null) throw new RetryLater(retryIn, result.error ?? 'delivery failed');
    throw new UnrecoverableError(result.error ?? 'delivery failed');
  }

  private async settle(deliveryId: string, status: 'failed'): Promise<void> {
    await this.dataSource.query(
      `UPDATE webhook_deliveries SET status = $2, next_attempt_at = NULL WHERE id = $1`,
      [deliveryId, status],
    );
  }

  private async load(deliveryId: string): Promise<Target | undefined> {
    const rows: Target[] = await this.dataSource.query(
      `SELECT d.id, d.agency_id, d.status, d.event_id, ev.payload, e.id AS endpoint_id, e.kind, e.url, e.active,
              e.secret_encrypted, e.previous_secret_encrypted, e.previous_secret_expires_at,
              (SELECT k.key_encrypted FROM api_keys k WHERE k.agency_id = d.agency_id AND k.revoked_at IS NULL) AS api_key_encrypted
         FROM webhook_deliveries d
         JOIN webhook_endpoints e ON e.id = d.endpoint_id
         JOIN webhook_events ev ON ev.id = d.event_id
        WHERE d.id = $1`,
      [deliveryId],
    );
    return rows[0];
  }
}
