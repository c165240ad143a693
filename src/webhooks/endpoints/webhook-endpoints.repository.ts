import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DeepPartial, In, Repository } from 'typeorm';
import { Page } from '../../common/pagination';
import { PageQueryDto } from '../../common/dto/page-query.dto';
import { batchPerTick } from '../../database/batch-per-tick';
import { paginate } from '../../database/pagination';
import type { Tx } from '../../database/sql';
import { EndpointKind, WebhookEndpoint } from './webhook-endpoint.entity';

const CUSTOM: EndpointKind = 'custom';
const INTEGRATION: EndpointKind = 'integration';

/**
 * Every query on webhook endpoints, scoped by agency (simple CRUD: TypeORM's repository). The delivery
 * record statement (DeliveriesRepository) also switches an endpoint off when its receiver answers 410.
 */
@Injectable()
export class WebhookEndpointsRepository {
  constructor(@InjectRepository(WebhookEndpoint) private readonly endpoints: Repository<WebhookEndpoint>) {}

  /** A new endpoint, not yet saved. */
  build(fields: DeepPartial<WebhookEndpoint>): WebhookEndpoint {
    return this.endpoints.create(fields);
  }

  save(endpoint: WebhookEndpoint): Promise<WebhookEndpoint> {
    return this.endpoints.save(endpoint);
  }

  /** One page of the agency's own (custom) endpoints, newest first. */
  pageOfCustom(agencyId: string, query: PageQueryDto): Promise<Page<WebhookEndpoint>> {
    const qb = this.endpoints
      .createQueryBuilder('endpoint')
      .where('endpoint.agency_id = :agencyId', { agencyId })
      .andWhere('endpoint.kind = :kind', { kind: CUSTOM });
    return paginate(qb, query);
  }

  findCustom(agencyId: string, id: string): Promise<WebhookEndpoint | null> {
    return this.endpoints.findOneBy({ id, agencyId, kind: CUSTOM });
  }

  async removeCustom(agencyId: string, id: string): Promise<void> {
    await this.endpoints.delete({ id, agencyId, kind: CUSTOM });
  }

  /** The integration page's endpoint of the agency, inside the caller's transaction. */
  findIntegration(tx: Tx, agencyId: string): Promise<WebhookEndpoint | null> {
    return tx.getRepository(WebhookEndpoint).findOneBy({ agencyId, kind: INTEGRATION });
  }

  /** The integration page's endpoint of the agency (there is one once a webhook_url was set). */
  findIntegrationOf(agencyId: string): Promise<WebhookEndpoint | null> {
    return this.endpoints.findOneBy({ agencyId, kind: INTEGRATION });
  }

  async saveIn(tx: Tx, endpoint: WebhookEndpoint): Promise<void> {
    await tx.getRepository(WebhookEndpoint).save(endpoint);
  }

  async deactivate(tx: Tx, id: string): Promise<void> {
    await tx.getRepository(WebhookEndpoint).update(id, { active: false });
  }

  /** An endpoint's throttle (attempts per second; null: none); the look-ups of one event-loop turn share one query. */
  readonly rateLimitOf: (id: string) => Promise<number | null> = batchPerTick((ids: readonly string[]) =>
    this.rateLimitsOf(ids),
  );

  private async rateLimitsOf(ids: readonly string[]): Promise<(number | null)[]> {
    const rows = await this.endpoints.find({
      where: { id: In([...ids]) },
      select: { id: true, rateLimitPerSecond: true },
    });
    const byId = new Map(rows.map((row) => [row.id, row.rateLimitPerSecond]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  /** The endpoints' health fields, by id. */
  async healthOf(
    ids: readonly string[],
  ): Promise<Map<string, Pick<WebhookEndpoint, 'active' | 'failingSince'>>> {
    if (ids.length === 0) return new Map();
    const rows = await this.endpoints.find({
      where: { id: In([...new Set(ids)]) },
      select: { id: true, active: true, failingSince: true },
    });
    return new Map(rows.map((row) => [row.id, row]));
  }

  /** The endpoint was paused as unreachable: failing from now, unless it was already. */
  async markFailing(id: string): Promise<void> {
    await this.endpoints
      .createQueryBuilder()
      .update()
      .set({ failingSince: () => 'COALESCE(failing_since, now())' })
      .where('id = :id', { id })
      .execute();
  }

  /** A probe was answered: healthy again. */
  async markHealthy(id: string): Promise<void> {
    await this.endpoints.update({ id }, { failingSince: null });
  }

  /**
   * Disables the active endpoints that have been failing for longer than `afterMs`, saying so in
   * their disabled_reason; returns their ids.
   */
  async disableFailingFor(afterMs: number, afterLabel: string): Promise<string[]> {
    // One statement: the reason names when the endpoint started failing (ISO 8601, UTC).
    const result = await this.endpoints
      .createQueryBuilder()
      .update()
      .set({
        active: false,
        disabledReason: () =>
          `'every attempt found it unreachable since ' || ` +
          `to_char(failing_since AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || ` +
          `' (more than ' || :afterLabel || '); PATCH active: true to resume'`,
      })
      .where("active AND failing_since < now() - :afterMs * interval '1 millisecond'", {
        afterMs,
        afterLabel,
      })
      .returning('id')
      .execute();
    return (result.raw as { id: string }[]).map((row) => row.id);
  }
}
