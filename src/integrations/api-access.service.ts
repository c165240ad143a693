import { Injectable } from '@nestjs/common';
import { AgenciesRepository } from '../agencies/agencies.repository';
import { AgencySecrets } from '../agencies/agency-secrets';
import type { Agency } from '../agencies/agency.entity';
import { AgentsService } from '../agents/agents.service';
import { describeApiKey, hashApiKey, newApiKey } from '../auth/api-key-format';
import { ApiError } from '../common/errors/api-error';
import { Transactions } from '../database/transactions';
import { WebhookEndpointsService } from '../webhooks/endpoints/webhook-endpoints.service';
import { ApiKeysRepository } from './api-keys.repository';
import { ApiAccessDto, UpdateApiAccessDto } from './dto/api-access.dto';

/** The agency's API access: its one active key, the switch, the integration-page webhook and default agent. */
@Injectable()
export class ApiAccessService {
  constructor(
    private readonly transactions: Transactions,
    private readonly agencies: AgenciesRepository,
    private readonly apiKeys: ApiKeysRepository,
    private readonly secrets: AgencySecrets,
    private readonly agents: AgentsService,
    private readonly endpoints: WebhookEndpointsService,
  ) {}

  /** Makes a new key and revokes the previous one in the same transaction; returns the key, once. */
  async generateKey(agencyId: string): Promise<string> {
    const key = newApiKey();
    const stored = {
      ...describeApiKey(key),
      keyHash: hashApiKey(key),
      keyEncrypted: this.secrets.encrypt('api_key', agencyId, key),
    };
    await this.transactions.run(async (tx) => {
      // Serialises concurrent regenerations of one agency (one active key, enforced by a unique index too).
      await this.agencies.lock(tx, agencyId);
      await this.apiKeys.replaceActive(tx, agencyId, stored);
    });
    return key;
  }

  async get(agencyId: string): Promise<ApiAccessDto> {
    const agency = await this.agencies.find(agencyId);
    if (!agency) throw ApiError.notFound('agency_not_found', 'Agency not found');
    const key = await this.apiKeys.findActive(agencyId);
    const endpoint = agency.apiWebhookUrl ? await this.endpoints.integrationEndpoint(agencyId) : null;
    return {
      enabled: agency.apiEnabled,
      api_key: key ? { prefix: key.prefix, last4: key.last4, created_at: key.createdAt } : null,
      webhook_url: agency.apiWebhookUrl,
      webhook_state: endpoint?.state ?? null,
      webhook_failing_since: endpoint?.failing_since ?? null,
      webhook_disabled_reason: endpoint?.disabled_reason ?? null,
      webhook_rate_limit_per_second: endpoint?.rate_limit_per_second ?? null,
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
      // The agent must be one of this agency's (404 agent_not_found otherwise).
      if (dto.default_agent_id !== null) await this.agents.find(agencyId, dto.default_agent_id);
      changes.defaultAgentId = dto.default_agent_id;
    }
    const rate = dto.webhook_rate_limit_per_second;
    if (Object.keys(changes).length > 0 || rate !== undefined) {
      await this.transactions.run(async (tx) => {
        if (Object.keys(changes).length > 0) await this.agencies.updateIn(tx, agencyId, changes);
        if (changes.apiWebhookUrl !== undefined || rate !== undefined) {
          await this.endpoints.syncIntegrationEndpoint(tx, agencyId, changes.apiWebhookUrl, rate);
        }
      });
    }
    return this.get(agencyId);
  }
}
