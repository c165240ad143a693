import { Injectable } from '@nestjs/common';
import { Clock } from '../../common/clock';
import { ApiError } from '../../common/errors/api-error';
import { validationFailed } from '../../common/errors/validation';
import { Page } from '../../common/pagination';
import { endpointState } from '../endpoints/dto/webhook-endpoint.dto';
import type { WebhookEndpoint } from '../endpoints/webhook-endpoint.entity';
import { WebhookEndpointsRepository } from '../endpoints/webhook-endpoints.repository';
import { DeliveriesRepository, DeliveryScope } from './deliveries.repository';
import { DeliveryDto, DeliveryQueryDto, RecoverDeliveriesDto } from './dto/delivery.dto';
import { WebhookDelivery } from './webhook-delivery.entity';
import { WebhookOutbox } from './webhook-outbox.service';

/** How far back a recovery reaches (CONTRACT §5.4). */
export const RECOVERY_WINDOW_DAYS = 14;
/** Beyond it, for a client that computed "14 days ago" by its own clock before sending the request. */
const RECOVERY_WINDOW_LEEWAY_MS = 5 * 60_000;
/** Deliveries reopened per statement: a large range is many short statements, never one long one. */
const RECOVERY_BATCH = 1_000;

/** The delivery log (CONTRACT §6), by-hand retries and bulk recovery. */
@Injectable()
export class DeliveriesService {
  constructor(
    private readonly deliveries: DeliveriesRepository,
    private readonly endpoints: WebhookEndpointsRepository,
    private readonly outbox: WebhookOutbox,
    private readonly clock: Clock,
  ) {}

  async list(agencyId: string, scope: DeliveryScope, query: DeliveryQueryDto): Promise<Page<DeliveryDto>> {
    const page = await this.deliveries.page(agencyId, scope, query);
    return { items: await this.withAttempts(page.items), nextCursor: page.nextCursor };
  }

  async get(agencyId: string, id: string): Promise<DeliveryDto> {
    const [dto] = await this.withAttempts([await this.find(agencyId, id)]);
    return dto;
  }

  /** Sends the delivery again now, whatever its state; the outcome is added to its attempts. */
  async retry(agencyId: string, id: string): Promise<DeliveryDto> {
    const delivery = await this.find(agencyId, id);
    await this.outbox.enqueueManual(delivery.id);
    return this.get(agencyId, id);
  }

  /**
   * Sends the endpoint's deliveries that failed within the range again, each once, with the whole
   * retry schedule, through the endpoint's in-flight cap like any delivery; returns how many.
   */
  async recover(agencyId: string, scope: DeliveryScope, dto: RecoverDeliveriesDto): Promise<number> {
    const range = this.recoveryRange(dto);
    const endpoint = await this.recoverableEndpoint(agencyId, scope);
    let queued = 0;
    for (;;) {
      const reopened = await this.deliveries.reopenFailed(agencyId, endpoint.id, range, RECOVERY_BATCH);
      if (reopened.length === 0) return queued;
      await this.outbox.enqueueAgain(reopened);
      queued += reopened.length;
    }
  }

  /**
   * `until` is at most now, the time of the request: a delivery that fails again while the recovery
   * runs is not taken a second time. A `since` still to come is an empty range.
   */
  private recoveryRange(dto: RecoverDeliveriesDto): { since: Date; until: Date } {
    const now = this.clock.now();
    const since = new Date(dto.since);
    const oldest = new Date(
      now.getTime() - RECOVERY_WINDOW_DAYS * 24 * 3600 * 1000 - RECOVERY_WINDOW_LEEWAY_MS,
    );
    if (since < oldest) {
      throw validationFailed([
        {
          field: 'since',
          message: `since must be at most ${RECOVERY_WINDOW_DAYS} days ago (${oldest.toISOString()} or later)`,
        },
      ]);
    }
    const until = dto.until ? new Date(dto.until) : null;
    if (until && until < since) {
      throw validationFailed([{ field: 'until', message: 'until must not be before since' }]);
    }
    return { since, until: until && until < now ? until : now };
  }

  /** The endpoint of `scope`, which must be able to receive what is recovered. */
  private async recoverableEndpoint(agencyId: string, scope: DeliveryScope): Promise<WebhookEndpoint> {
    if ('endpointId' in scope) {
      const endpoint = await this.endpoints.findCustom(agencyId, scope.endpointId);
      if (!endpoint)
        throw ApiError.notFound('webhook_not_found', `No webhook ${scope.endpointId} in this agency`);
      if (!endpoint.active) {
        throw ApiError.conflict('webhook_disabled', `Webhook ${endpoint.id} is disabled${reason(endpoint)}`, {
          hint: 'Re-enable it with PATCH /api/v1/webhooks/:id {"active": true}, then recover',
        });
      }
      return endpoint;
    }
    const endpoint = await this.endpoints.findIntegrationOf(agencyId);
    if (!endpoint?.active) {
      throw ApiError.conflict(
        'webhook_disabled',
        `The integration has no webhook_url receiving deliveries${endpoint ? reason(endpoint) : ''}`,
        { hint: 'Set webhook_url with PATCH /api/v1/integrations/api (this re-enables it), then recover' },
      );
    }
    return endpoint;
  }

  private async find(agencyId: string, id: string): Promise<WebhookDelivery> {
    const delivery = await this.deliveries.findInAgency(agencyId, id);
    if (!delivery) throw ApiError.notFound('delivery_not_found', `No delivery ${id} in this agency`);
    return delivery;
  }

  private async withAttempts(deliveries: WebhookDelivery[]): Promise<DeliveryDto[]> {
    const [attempts, health] = await Promise.all([
      this.deliveries.attemptsOf(deliveries.map((d) => d.id)),
      this.endpoints.healthOf(deliveries.map((d) => d.endpointId)),
    ]);
    return deliveries.map((d) => ({
      id: d.id,
      webhook_id: d.endpointId,
      endpoint_state: endpointState(health.get(d.endpointId) ?? { active: false, failingSince: null }),
      event_id: d.eventId,
      event: d.eventType,
      status: d.status,
      attempt_count: d.attemptCount,
      next_attempt_at: d.nextAttemptAt,
      failed_at: d.failedAt,
      created_at: d.createdAt,
      attempts: attempts
        .filter((a) => a.deliveryId === d.id)
        .map((a) => ({
          attempt: a.attempt,
          at: a.at,
          status_code: a.statusCode,
          duration_ms: a.durationMs,
          error: a.error,
          response_excerpt: a.responseExcerpt,
        })),
    }));
  }
}

const reason = (endpoint: WebhookEndpoint) =>
  endpoint.disabledReason ? ` (${endpoint.disabledReason})` : '';
