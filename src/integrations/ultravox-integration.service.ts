import { HttpStatus, Inject, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { agencySecretContext } from '../agencies/agencies.service';
import { Agency } from '../agencies/agency.entity';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { randomSecret } from '../common/crypto/random-secret';
import { SecretBox } from '../common/crypto/secret-box';
import { ApiError } from '../common/errors/api-error';
import { CacheInvalidation } from '../common/redis/cache-invalidation';
import { AGENCY_SECRETS_CHANGED } from '../calls/ingest/ingest-secrets';
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
    @InjectRepository(Agency) private readonly agencies: Repository<Agency>,
    private readonly secretBox: SecretBox,
    private readonly ultravox: UltravoxClient,
    private readonly invalidation: CacheInvalidation,
  ) {}

  /** CONTRACT §5.1. Everything that can fail remotely happens before anything is written. */
  async save(agencyId: string, dto: SaveUltravoxIntegrationDto): Promise<string> {
    const agency = await this.agency(agencyId);
    const apiKey = dto.api_key.trim();
    if (!dto.skip_validation) await this.remote(() => this.ultravox.validateKey(apiKey));
    const changes: Partial<Agency> = {
      ultravoxApiKeyEncrypted: this.secretBox.encrypt(
        apiKey,
        agencySecretContext(agencyId, 'ultravox_api_key'),
      ),
      ultravoxApiKeyAddedAt: new Date(),
      ultravoxApiKeyValidatedAt: dto.skip_validation ? null : new Date(),
    };
    if (dto.register_webhook) Object.assign(changes, await this.registerWebhook(agency, apiKey));
    await this.agencies.update(agencyId, changes);
    if (dto.register_webhook) await this.secretsChanged(agencyId);
    return this.ingestUrl(agency);
  }

  async get(agencyId: string): Promise<UltravoxIntegrationDto> {
    const agency = await this.agency(agencyId);
    return {
      configured: agency.ultravoxApiKeyEncrypted !== null,
      added_at: agency.ultravoxApiKeyAddedAt,
      validated_at: agency.ultravoxApiKeyValidatedAt,
      webhook_url: this.ingestUrl(agency),
      signature_verification: agency.ultravoxSigningSecretEncrypted !== null,
    };
  }

  /** Forgets the key and the Ultravox webhook registered with it (removed at Ultravox when possible). */
  async remove(agencyId: string): Promise<void> {
    const agency = await this.agency(agencyId);
    if (agency.ultravoxWebhookId && agency.ultravoxApiKeyEncrypted) {
      const apiKey = this.decryptKey(agency);
      await this.ultravox
        .deleteWebhook(apiKey, agency.ultravoxWebhookId)
        .catch((err: Error) =>
          this.logger.warn({ msg: 'could not remove the Ultravox webhook', agencyId, err: err.message }),
        );
    }
    await this.agencies.update(agencyId, {
      ultravoxApiKeyEncrypted: null,
      ultravoxApiKeyAddedAt: null,
      ultravoxApiKeyValidatedAt: null,
      ultravoxWebhookId: null,
      ultravoxSigningSecretEncrypted: null,
    });
    await this.secretsChanged(agencyId);
  }

  /** A new ingest URL secret; a webhook registered at Ultravox is pointed at the new URL first. */
  async rotateIngestSecret(agencyId: string): Promise<string> {
    const agency = await this.agency(agencyId);
    agency.ingestSecretEncrypted = this.secretBox.encrypt(
      randomSecret(),
      agencySecretContext(agencyId, 'ingest_secret'),
    );
    const changes: Partial<Agency> = { ingestSecretEncrypted: agency.ingestSecretEncrypted };
    if (agency.ultravoxWebhookId && agency.ultravoxApiKeyEncrypted) {
      Object.assign(changes, await this.registerWebhook(agency, this.decryptKey(agency)));
    }
    await this.agencies.update(agencyId, changes);
    await this.secretsChanged(agencyId);
    return this.ingestUrl(agency);
  }

  /** Every API process drops the agency's cached ingest secrets (src/calls/ingest/ingest-secrets.ts). */
  private secretsChanged(agencyId: string): Promise<void> {
    return this.invalidation.publish(AGENCY_SECRETS_CHANGED, agencyId);
  }

  ingestUrl(agency: Agency): string {
    const secret = this.secretBox.decrypt(
      agency.ingestSecretEncrypted,
      agencySecretContext(agency.id, 'ingest_secret'),
    );
    return `${this.config.publicBaseUrl}/functions/v1/webhook-ingest/${agency.id}/${secret}`;
  }

  /** Creates or updates the agency's Ultravox webhook; the signing secret stays stable once made. */
  private async registerWebhook(agency: Agency, apiKey: string): Promise<Partial<Agency>> {
    const context = agencySecretContext(agency.id, 'ultravox_signing_secret');
    const secret = agency.ultravoxSigningSecretEncrypted
      ? this.secretBox.decrypt(agency.ultravoxSigningSecretEncrypted, context)
      : randomSecret();
    const webhook = { url: this.ingestUrl(agency), events: ULTRAVOX_WEBHOOK_EVENTS, secrets: [secret] };
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
    return {
      ultravoxWebhookId: saved.webhookId,
      ultravoxSigningSecretEncrypted: this.secretBox.encrypt(secret, context),
    };
  }

  private decryptKey(agency: Agency): string {
    return this.secretBox.decrypt(
      agency.ultravoxApiKeyEncrypted!,
      agencySecretContext(agency.id, 'ultravox_api_key'),
    );
  }

  private async agency(agencyId: string): Promise<Agency> {
    const agency = await this.agencies.findOneBy({ id: agencyId });
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
