import { Injectable } from '@nestjs/common';
import { ApiError } from '../../common/errors/api-error';
import { Page } from '../../common/pagination';
import { DeliveriesRepository, DeliveryScope } from './deliveries.repository';
import { DeliveryDto, DeliveryQueryDto } from './dto/delivery.dto';
import { WebhookDelivery } from './webhook-delivery.entity';
import { WebhookOutbox } from './webhook-outbox.service';
import { endpointState } from '../endpoints/dto/webhook-endpoint.dto';
import { WebhookEndpointsRepository } from '../endpoints/webhook-endpoints.repository';

/** The delivery log (CONTRACT §6) and by-hand retries. */
@Injectable()
export class DeliveriesService {
  constructor(
    private readonly deliveries: DeliveriesRepository,
    private readonly outbox: WebhookOutbox,
    private readonly endpoints: WebhookEndpointsRepository,
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
