import { Inject, Injectable } from '@nestjs/common';
import { AgencySecrets, newEndpointSecret } from '../../agencies/agency-secrets';
import { randomUUID } from 'node:crypto';
import { ApiError } from '../../common/errors/api-error';
import { validationFailed } from '../../common/errors/validation';
import { assertWebhookUrlAllowed, WebhookUrlError } from '../../common/http/webhook-url';
import { Page } from '../../common/pagination';
import { PageQueryDto } from '../../common/dto/page-query.dto';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import type { Tx } from '../../database/sql';
import { EndpointGate } from '../delivery/endpoint-gate.repository';
import { WebhookOutbox } from '../delivery/webhook-outbox.service';
import { INTEGRATION_EVENTS, TEST_EVENT } from '../webhook-event-types';
import {
  CreateWebhookDto,
  endpointState,
  UpdateWebhookDto,
  WebhookDto,
  WebhookWithSecretDto,
} from './dto/webhook-endpoint.dto';
import { WebhookEndpoint } from './webhook-endpoint.entity';
import { WebhookEndpointsRepository } from './webhook-endpoints.repository';

/** How long a rotated-out secret keeps signing beside the new one. */
export const ROTATION_OVERLAP_MS = 24 * 3600 * 1000;

function toDto(endpoint: WebhookEndpoint): WebhookDto {
  return {
    webhookId: endpoint.id,
    url: endpoint.url,
    events: endpoint.events,
    active: endpoint.active,
    state: endpointState(endpoint),
    failing_since: endpoint.failingSince ?? null,
    disabled_reason: endpoint.disabledReason,
    rate_limit_per_second: endpoint.rateLimitPerSecond ?? null,
    created_at: endpoint.createdAt,
  };
}

/** Agencies' webhook endpoints (CONTRACT §5.4), scoped by agency in every query. */
@Injectable()
export class WebhookEndpointsService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly endpoints: WebhookEndpointsRepository,
    private readonly secrets: AgencySecrets,
    private readonly outbox: WebhookOutbox,
    private readonly gate: EndpointGate,
  ) {}

  async create(agencyId: string, dto: CreateWebhookDto): Promise<WebhookWithSecretDto> {
    await this.checkUrl(dto.url, 'url');
    const endpoint = this.endpoints.build({
      agencyId,
      kind: 'custom',
      url: dto.url,
      events: dto.events,
      active: dto.active ?? true,
      rateLimitPerSecond: dto.rate_limit_per_second ?? null,
    });
    const secret = this.assignNewSecret(endpoint);
    await this.endpoints.save(endpoint);
    return { ...toDto(endpoint), secret };
  }

  async list(agencyId: string, query: PageQueryDto): Promise<Page<WebhookDto>> {
    const page = await this.endpoints.pageOfCustom(agencyId, query);
    return { items: page.items.map(toDto), nextCursor: page.nextCursor };
  }

  async get(agencyId: string, id: string): Promise<WebhookDto> {
    return toDto(await this.find(agencyId, id));
  }

  async update(agencyId: string, id: string, dto: UpdateWebhookDto): Promise<WebhookDto> {
    const endpoint = await this.find(agencyId, id);
    if (dto.url !== undefined) endpoint.url = await this.checkUrl(dto.url, 'url');
    if (dto.events !== undefined) endpoint.events = dto.events;
    if (dto.rate_limit_per_second !== undefined) endpoint.rateLimitPerSecond = dto.rate_limit_per_second;
    const reenabled = dto.active === true && !endpoint.active;
    if (dto.active !== undefined) {
      endpoint.active = dto.active;
      if (dto.active) endpoint.disabledReason = null;
    }
    // Re-enabled by hand: a fresh start, its failures and pause forgotten.
    if (reenabled) endpoint.failingSince = null;
    const saved = await this.endpoints.save(endpoint);
    if (reenabled) await this.gate.reset(endpoint.id);
    return toDto(saved);
  }

  async remove(agencyId: string, id: string): Promise<void> {
    await this.find(agencyId, id);
    await this.endpoints.removeCustom(agencyId, id);
  }

  /** A new secret; the previous one keeps signing (both `v1,` entries) for ROTATION_OVERLAP_MS. */
  async rotateSecret(agencyId: string, id: string): Promise<WebhookWithSecretDto> {
    const endpoint = await this.find(agencyId, id);
    endpoint.previousSecretEncrypted = endpoint.secretEncrypted;
    endpoint.previousSecretExpiresAt = new Date(Date.now() + ROTATION_OVERLAP_MS);
    const secret = this.assignNewSecret(endpoint);
    await this.endpoints.save(endpoint);
    return { ...toDto(endpoint), secret };
  }

  /** Sends a `webhook.test` event to this endpoint only. */
  async sendTest(agencyId: string, id: string): Promise<{ deliveryId: string; eventId: string }> {
    const endpoint = await this.find(agencyId, id);
    const message = 'Test event from Switchboard: your endpoint is reachable and verifies our signatures.';
    const event = await this.outbox.emit(
      agencyId,
      TEST_EVENT,
      { webhook_id: endpoint.id, message },
      endpoint.id,
    );
    return { deliveryId: event.deliveries[0].deliveryId, eventId: event.eventId };
  }

  /**
   * Keeps the integration page's webhook_url an endpoint like any other (subscribed to call.completed
   * and call.failed). Runs in the caller's transaction.
   */
  async syncIntegrationEndpoint(
    tx: Tx,
    agencyId: string,
    url: string | null | undefined,
    rateLimitPerSecond?: number | null,
  ): Promise<void> {
    const existing = await this.endpoints.findIntegration(tx, agencyId);
    if (url === undefined) {
      // Only the throttle changes (of the endpoint there is, if any).
      if (existing && rateLimitPerSecond !== undefined) {
        existing.rateLimitPerSecond = rateLimitPerSecond;
        await this.endpoints.saveIn(tx, existing);
      }
      return;
    }
    if (url === null) {
      if (existing) await this.endpoints.deactivate(tx, existing.id);
      return;
    }
    const endpoint =
      existing ?? this.endpoints.build({ agencyId, kind: 'integration', events: INTEGRATION_EVENTS });
    // A new address, or switched on again: a fresh start.
    if (!endpoint.active || endpoint.url !== url) endpoint.failingSince = null;
    endpoint.url = url;
    endpoint.active = true;
    endpoint.disabledReason = null;
    if (rateLimitPerSecond !== undefined) endpoint.rateLimitPerSecond = rateLimitPerSecond;
    if (!existing) this.assignNewSecret(endpoint);
    await this.endpoints.saveIn(tx, endpoint);
  }

  /** The integration page's endpoint's health and throttle; null when the agency has no webhook_url. */
  async integrationEndpoint(
    agencyId: string,
  ): Promise<Pick<
    WebhookDto,
    'state' | 'failing_since' | 'disabled_reason' | 'rate_limit_per_second'
  > | null> {
    const endpoint = await this.endpoints.findIntegrationOf(agencyId);
    if (!endpoint) return null;
    const { state, failing_since, disabled_reason, rate_limit_per_second } = toDto(endpoint);
    return { state, failing_since, disabled_reason, rate_limit_per_second };
  }

  /** The endpoint, only if it belongs to this agency (and is one of its /api/v1/webhooks endpoints). */
  async find(agencyId: string, id: string): Promise<WebhookEndpoint> {
    const endpoint = await this.endpoints.findCustom(agencyId, id);
    if (!endpoint) throw ApiError.notFound('webhook_not_found', `No webhook ${id} in this agency`);
    return endpoint;
  }

  async checkUrl(url: string, field: string): Promise<string> {
    try {
      await assertWebhookUrlAllowed(url, this.config.webhooks.allowPrivateUrls);
      return url;
    } catch (err) {
      if (err instanceof WebhookUrlError)
        throw validationFailed([{ field, message: `${field} ${err.message}` }]);
      throw err;
    }
  }

  private assignNewSecret(endpoint: WebhookEndpoint): string {
    endpoint.id ??= randomUUID();
    const secret = newEndpointSecret();
    endpoint.secretEncrypted = this.secrets.encrypt('endpoint_secret', endpoint.id, secret);
    return secret;
  }
}
