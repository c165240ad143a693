import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, IsNull, Repository } from 'typeorm';
import { agencySecretContext } from '../agencies/agencies.service';
import { Agency } from '../agencies/agency.entity';
import { Agent } from '../agents/agent.entity';
import { describeApiKey, hashApiKey, newApiKey } from '../auth/api-key-format';
import { SecretBox } from '../common/crypto/secret-box';
import { ApiError } from '../common/errors/api-error';
import { WebhookEndpointsService } from '../webhooks/endpoints/webhook-endpoints.service';
import { ApiKey } from './api-key.entity';
import { ApiAccessDto, UpdateApiAccessDto } from './dto/api-access.dto';

/** The agency's API access: its one active key, the switch, the integration-page webhook and default agent. */
@Injectable()
export class ApiAccessService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRepository(Agency) private readonly agencies: Repository<Agency>,
    @InjectRepository(ApiKey) private readonly apiKeys: Repository<ApiKey>,
    @InjectRepository(Agent) private readonly agents: Repository<Agent>,
    private readonly secretBox: SecretBox,
    private readonly endpoints: WebhookEndpointsService,
  ) {}

  /** Makes a new key and revokes the previous one in the same transaction; returns the key, once. */
  async generateKey(agencyId: string): Promise<string> {
    const key = newApiKey();
    await this.dataSource.transaction(async (em) => {
      // Serialises concurrent regenerations of one agency (one active key, enforced by a unique index too).
      await em
        .getRepository(Agency)
        .createQueryBuilder('a')
        .setLock('pessimistic_write')
        .where({ id: agencyId })
        .getOne();
      await em.update(ApiKey, { agencyId, revokedAt: IsNull() }, { revokedAt: new Date() });
      await em.insert(ApiKey, {
        agencyId,
        ...describeApiKey(key),
        keyHash: hashApiKey(key),
        keyEncrypted: this.secretBox.encrypt(key, agencySecretContext(agencyId, 'api_key')),
      });
    });
    return key;
  }

  async get(agencyId: string): Promise<ApiAccessDto> {
    const agency = await this.agencies.findOneByOrFail({ id: agencyId });
    const key = await this.apiKeys.findOneBy({ agencyId, revokedAt: IsNull() });
    return {
      enabled: agency.apiEnabled,
      api_key: key ? { prefix: key.prefix, last4: key.last4, created_at: key.createdAt } : null,
      webhook_url: agency.apiWebhookUrl,
      default_agent_id: agency.defaultAgentId,
    };
  }

  async update(agencyId: string, dto: UpdateApiAccessDto): Promise<ApiAccessDto> {
    const changes: Partial<Agency> = {};
    if (dto.enabled !== undefined) changes.apiEnabled = dto.enabled;
    if (dto.webhook_url !== undefined) {
      changes.apiWebhookUrl =
        dto.webhook_url === null ? null : await this.endpoints.checkUrl(dto.webhook_url, 'webhook_url');
    }
    if (dto.default_agent_id !== undefined) {
      if (
        dto.default_agent_id !== null &&
        !(await this.agents.existsBy({ id: dto.default_agent_id, agencyId }))
      ) {
        throw ApiError.notFound('agent_not_found', `No agent ${dto.default_agent_id} in this agency`);
      }
      changes.defaultAgentId = dto.default_agent_id;
    }
    if (Object.keys(changes).length > 0) {
      await this.dataSource.transaction(async (em) => {
        await em.update(Agency, agencyId, changes);
        if (changes.apiWebhookUrl !== undefined) {
          await this.endpoints.syncIntegrationEndpoint(em, agencyId, changes.apiWebhookUrl);
        }
      });
    }
    return this.get(agencyId);
  }
}
