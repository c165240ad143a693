import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DeepPartial, Repository } from 'typeorm';
import { Page, PageQueryDto } from '../../common/pagination';
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

  async saveIn(tx: Tx, endpoint: WebhookEndpoint): Promise<void> {
    await tx.getRepository(WebhookEndpoint).save(endpoint);
  }

  async deactivate(tx: Tx, id: string): Promise<void> {
    await tx.getRepository(WebhookEndpoint).update(id, { active: false });
  }
}
