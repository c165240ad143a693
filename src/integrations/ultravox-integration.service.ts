import { HttpStatus, Inject, Injectable, Logger } from '@nestjs/common';
import { AgenciesRepository } from '../agencies/agencies.repository';
import { AgencySecrets } from '../agencies/agency-secrets';
import { Agency } from '../agencies/agency.entity';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { randomSecret } from '../common/crypto/random-secret';
import { ApiError } from '../common/errors/api-error';
import { UltravoxClient } from '../ultravox/ultravox.client';
import { UltravoxError } from '../ultravox/ultravox.errors';
import { SaveUltravoxIntegrationDto, UltravoxIntegrationDto } from './dto/save-ultravox-integration.dto';

/** The Ultravox events Switchboard follows a call by. */
export const ULTRAVOX_WEBHOOK_EVENTS = ['call.started', 'call.joined', 'call.ended'];
const SKIP_HINT =
  'If the key is right but the Ultravox account has no credits, save it with skip_validation: true.';

@Injectable()
export class UltravoxIntegrationService {
  private readonly logger = new Logger(UltravoxIntegrationService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly agencies: AgenciesRepository,
    private readonly secrets: AgencySecrets,
    private readonly ultravox: UltravoxClient,
  ) {}

  /** CONTRACT §5.1. Everything that can fail remotely happens before anything is written. */
  async save(agencyId: string, dto: SaveUltravoxIntegrationDto): Promise<string> {
    const agency = await this.agency(agencyId);
    const apiKey = dto.api_key.trim();
    if (!dto.skip_validation) await this.remote(() => this.ultravox.validateKey(apiKey));
    const ingestSecret = this.ingestSecret(agency);
    const webhook = dto.register_webhook ? await this.registerWebhook(agency, apiKey, ingestSecret) : null;
    await this.secrets.store(
      agencyId,
      { ultravox_api_key: apiKey, ...(webhook && { ultravox_signing_secret: webhook.signingSecret }) },
      {
        ultravoxApiKeyAddedAt: new Date(),
        ultravoxApiKeyValidatedAt: dto.skip_validation ? null : new Date(),
        ...(webhook && { ultravoxWebhookId: webhook.webhookId }),
      },
    );
    return this.ingestUrl(agency.id, ingestSecret);
  }

  async get(agencyId: string): Promise<UltravoxIntegrationDto> {
    const agency = await this.agency(agencyId);
    return {
      configured: agency.ultravoxApiKeyEncrypted !== null,
      added_at: agency.ultravoxApiKeyAddedAt,
      validated_at: agency.ultravoxApiKeyValidatedAt,
      webhook_url: this.ingestUrl(agency.id, this.ingestSecret(agency)),
      signature_verification: agency.ultravoxSigningSecretEncrypted !== null,
    };
  }

  /** Forgets the key and the Ultravox webhook registered with it (removed at Ultravox when possible). */
  async remove(agencyId: string): Promise<void> {
    const agency = await this.agency(agencyId);
    if (agency.ultravoxWebhookId && agency.ultravoxApiKeyEncrypted) {
      await this.ultravox
        .deleteWebhook(this.apiKey(agency.id, agency.ultravoxApiKeyEncrypted), agency.ultravoxWebhookId)
        .catch((err: Error) =>
          this.logger.warn({ msg: 'could not remove the Ultravox webhook', agencyId, err: err.message }),
        );
    }
    await this.secrets.store(
      agencyId,
      { ultravox_api_key: null, ultravox_signing_secret: null },
      { ultravoxApiKeyAddedAt: null, ultravoxApiKeyValidatedAt: null, ultravoxWebhookId: null },
    );
  }

  /** A new ingest URL secret; a webhook registered at Ultravox is pointed at the new URL first. */
  async rotateIngestSecret(agencyId: string): Promise<string> {
    const agency = await this.agency(agencyId);
    const ingestSecret = randomSecret();
    const webhook =
      agency.ultravoxWebhookId && agency.ultravoxApiKeyEncrypted
        ? await this.registerWebhook(
            agency,
            this.apiKey(agency.id, agency.ultravoxApiKeyEncrypted),
            ingestSecret,
          )
        : null;
    await this.secrets.store(
      agencyId,
      { ingest_secret: ingestSecret, ...(webhook && { ultravox_signing_secret: webhook.signingSecret }) },
      webhook ? { ultravoxWebhookId: webhook.webhookId } : {},
    );
    return this.ingestUrl(agency.id, ingestSecret);
  }

  private ingestUrl(agencyId: string, ingestSecret: string): string {
    return `${this.config.publicBaseUrl}/functions/v1/webhook-ingest/${agencyId}/${ingestSecret}`;
  }

  private ingestSecret(agency: Agency): string {
    return this.secrets.decrypt('ingest_secret', agency.id, agency.ingestSecretEncrypted);
  }

  /**
   * Creates or updates the agency's Ultravox webhook, pointed at the ingest URL with `ingestSecret`;
   * the signing secret stays stable once made.
   */
  private async registerWebhook(
    agency: Agency,
    apiKey: string,
    ingestSecret: string,
  ): Promise<{ webhookId: string; signingSecret: string }> {
    const signingSecret = agency.ultravoxSigningSecretEncrypted
      ? this.secrets.decrypt('ultravox_signing_secret', agency.id, agency.ultravoxSigningSecretEncrypted)
      : randomSecret();
    const webhook = {
      url: this.ingestUrl(agency.id, ingestSecret),
      events: ULTRAVOX_WEBHOOK_EVENTS,
      secrets: [signingSecret],
    };
    const saved = await this.remote(async () => {
      if (agency.ultravoxWebhookId) {
        try {
          return await this.ultravox.updateWebhook(apiKey, agency.ultravoxWebhookId, webhook);
        } catch (err) {
          if (!(err instanceof UltravoxError && err.failure === 'not_found')) throw err;
        }
      }
      return this.ultravox.createWebhook(apiKey, webhook);
    });
    return { webhookId: saved.webhookId, signingSecret };
  }

  private apiKey(agencyId: string, stored: string): string {
    return this.secrets.decrypt('ultravox_api_key', agencyId, stored);
  }

  private async agency(agencyId: string): Promise<Agency> {
    const agency = await this.agencies.find(agencyId);
    if (!agency) throw ApiError.notFound('agency_not_found', 'Agency not found');
    return agency;
  }

  /** Maps Ultravox failures to the answers of CONTRACT §5.1: rejected key 400, anything else 502. */
  private async remote<T>(action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (err) {
      if (!(err instanceof UltravoxError)) throw err;
      if (err.failure === 'rejected_key') {
        throw ApiError.badRequest('ultravox_key_rejected', `Ultravox rejected the API key: ${err.message}`, {
          hint: SKIP_HINT,
        });
      }
      throw new ApiError(
        HttpStatus.BAD_GATEWAY,
        'ultravox_unavailable',
        `Could not reach Ultravox: ${err.message}`,
        {
          hint: `Try again later. ${SKIP_HINT}`,
        },
      );
    }
  }
}
