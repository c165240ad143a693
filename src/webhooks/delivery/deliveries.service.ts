import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import { ApiError } from '../../common/errors/api-error';
import { Page, paginate } from '../../common/pagination';
import { DeliveryDto, DeliveryQueryDto } from './dto/delivery.dto';
import { DeliveryAttempt, WebhookDelivery } from './webhook-delivery.entity';
import { WebhookOutbox } from './webhook-outbox.service';

/** Which deliveries a log shows: one endpoint's, or the integration page's endpoint's. */
export type DeliveryScope = { endpointId: string } | { integration: true };

/** The delivery log (CONTRACT §6) and by-hand retries. */
@Injectable()
export class DeliveriesService {
  constructor(
    @InjectRepository(WebhookDelivery) private readonly deliveries: Repository<WebhookDelivery>,
    @InjectRepository(DeliveryAttempt) private readonly attempts: Repository<DeliveryAttempt>,
    private readonly outbox: WebhookOutbox,
  ) {}

  async list(agencyId: string, scope: DeliveryScope, query: DeliveryQueryDto): Promise<Page<DeliveryDto>> {
    const qb = this.deliveries
      .createQueryBuilder('delivery')
      .where('delivery.agency_id = :agencyId', { agencyId });
    if ('endpointId' in scope) {
      qb.andWhere('delivery.endpoint_id = :endpointId', { endpointId: scope.endpointId });
    } else {
      qb.andWhere(
        `delivery.endpoint_id IN (SELECT id FROM webhook_endpoints WHERE agency_id = :agencyId AND kind = 'integration')`,
      );
    }
    if (query.status) qb.andWhere('delivery.status = :status', { status: query.status });
    if (query.event) qb.andWhere('delivery.event_type = :event', { event: query.event });
    const page = await paginate(qb, query);
    return { items: await this.withAttempts(page.items), nextCursor: page.nextCursor };
  }

  async get(agencyId: string, id: string): Promise<DeliveryDto> {
    const [dto] = await this.withAttempts([await this.find(agencyId, id)]);
    return dto;
  }

  /** Sends the delivery again now, whatever its state; the outcome is added to its attempts. */
  async retry(agencyId: string, id: string): Promise<DeliveryDto> {
    const delivery = await this.find(agencyId, id);
    await this.outbox.enqueue([delivery.id], true);
    return this.get(agencyId, id);
  }

  private async find(agencyId: string, id: string): Promise<WebhookDelivery> {
    const delivery = await this.deliveries.findOneBy({ id, agencyId });
    if (!delivery) throw ApiError.notFound('delivery_not_found', `No delivery ${id} in this agency`);
    return delivery;
  }

  private async withAttempts(deliveries: WebhookDelivery[]): Promise<DeliveryDto[]> {
    const attempts = deliveries.length
      ? await this.attempts.find({
          where: { deliveryId: In(deliveries.map((d) => d.id)) },
          order: { attempt: 'ASC' },
        })
      : [];
    return deliveries.map((d) => ({
      id: d.id,
      webhook_id: d.endpointId,
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
