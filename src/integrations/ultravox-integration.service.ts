import { HttpStatus, Inject, Injectable, Logger } from '@nestjs/common';
import { AgenciesRepository } from '../agencies/agencies.repository';
import { AgencySecrets } from '../agencies/agency-secrets';
import { Agency } from '../agencies/agency.entity';
import { liveCallCap } from '../agencies/live-call-cap';
import { Clock } from '../common/clock';
import { randomSecret } from '../common/crypto/random-secret';
import { ApiError } from '../common/errors/api-error';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { UltravoxClient } from '../ultravox/ultravox.client';
import { UltravoxError } from '../ultravox/ultravox.errors';
import { SaveUltravoxIntegrationDto, UltravoxIntegrationDto } from './dto/save-ultravox-integration.dto';
import { UltravoxWebhookHealthDto } from './dto/ultravox-webhook-health.dto';
import { accountLimit, webhookHealth } from './ultravox-webhook-health';
import { RegisteredWebhook, UltravoxWebhookRegistrar } from './ultravox-webhook-registrar';

const SKIP_HINT =
  'If the key is right but the Ultravox account has no credits, save it with skip_validation: true.';
/** The integration GET reads the webhook from Ultravox live, but never waits longer than this for it. */
const LIVE_READ_TIMEOUT_MS = 2_000;

/** Everything the workers' check records, cleared: a newly saved or removed key starts afresh. */
const NO_CHECK: Partial<Agency> = {
  ultravoxAllowedConcurrentCalls: null,
  ultravoxAccountCheckedAt: null,
  ultravoxWebhookStatus: null,
  ultravoxWebhookStatusChangedAt: null,
  ultravoxWebhookRecentFailures: null,
  ultravoxWebhookCheckedAt: null,
  ultravoxWebhookReregisteredAt: null,
  ultravoxCheckProblem: null,
  ultravoxKeyRejectedAt: null,
  ultravoxNextCheckAt: null,
};

@Injectable()
export class UltravoxIntegrationService {
  private readonly logger = new Logger(UltravoxIntegrationService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly agencies: AgenciesRepository,
    private readonly secrets: AgencySecrets,
    private readonly ultravox: UltravoxClient,
    private readonly registrar: UltravoxWebhookRegistrar,
    private readonly clock: Clock,
  ) {}

  /** CONTRACT §5.1. Everything that can fail remotely happens before anything is written. */
  async save(agencyId: string, dto: SaveUltravoxIntegrationDto): Promise<string> {
    const agency = await this.agency(agencyId);
    const apiKey = dto.api_key.trim();
    if (!dto.skip_validation) await this.remote(() => this.ultravox.validateKey(apiKey));
    const ingestSecret = this.registrar.ingestSecret(agency);
    const [webhook, allowed] = await Promise.all([
      dto.register_webhook
        ? this.remote(() => this.registrar.register(agency, apiKey, ingestSecret))
        : Promise.resolve(null),
      // skip_validation asks Ultravox nothing at save: the workers' first check reads the account.
      dto.skip_validation ? Promise.resolve(undefined) : this.readAccountLimit(agencyId, apiKey),
    ]);
    const now = this.clock.now();
    await this.secrets.store(
      agencyId,
      { ultravox_api_key: apiKey, ...(webhook && { ultravox_signing_secret: webhook.signingSecret }) },
      {
        ultravoxApiKeyAddedAt: now,
        ultravoxApiKeyValidatedAt: dto.skip_validation ? null : now,
        ...NO_CHECK,
        // Just read (or, with skip_validation, not to be asked yet): the workers look again in an interval.
        ultravoxNextCheckAt: new Date(now.getTime() + this.config.ultravox.webhookCheckIntervalMs),
        ...(allowed !== undefined && {
          ultravoxAllowedConcurrentCalls: allowed,
          ultravoxAccountCheckedAt: now,
        }),
        ...(webhook ? this.freshWebhook(webhook, now) : this.keptWebhook(agency)),
      },
    );
    return this.registrar.ingestUrl(agency.id, ingestSecret);
  }

  async get(agencyId: string): Promise<UltravoxIntegrationDto> {
    const agency = await this.agency(agencyId);
    return {
      configured: agency.ultravoxApiKeyEncrypted !== null,
      added_at: agency.ultravoxApiKeyAddedAt,
      validated_at: agency.ultravoxApiKeyValidatedAt,
      webhook_url: this.registrar.ingestUrl(agency.id, this.registrar.ingestSecret(agency)),
      signature_verification: agency.ultravoxSigningSecretEncrypted !== null,
      ultravox_webhook: await this.webhookHealth(agency),
      allowed_concurrent_calls: agency.ultravoxAllowedConcurrentCalls,
      effective_concurrent_calls: liveCallCap(agency, this.config.calls.maxConcurrentPerAgency),
      account_checked_at: agency.ultravoxAccountCheckedAt,
      key_rejected_at: agency.ultravoxKeyRejectedAt,
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
      { ultravoxApiKeyAddedAt: null, ultravoxApiKeyValidatedAt: null, ultravoxWebhookId: null, ...NO_CHECK },
    );
  }

  /** A new ingest URL secret; a webhook registered at Ultravox is pointed at the new URL first. */
  async rotateIngestSecret(agencyId: string): Promise<string> {
    const agency = await this.agency(agencyId);
    const ingestSecret = randomSecret();
    const webhook =
      agency.ultravoxWebhookId && agency.ultravoxApiKeyEncrypted
        ? await this.remote(() =>
            this.registrar.register(
              agency,
              this.apiKey(agency.id, agency.ultravoxApiKeyEncrypted as string),
              ingestSecret,
            ),
          )
        : null;
    await this.secrets.store(
      agencyId,
      { ingest_secret: ingestSecret, ...(webhook && { ultravox_signing_secret: webhook.signingSecret }) },
      webhook ? this.freshWebhook(webhook, this.clock.now()) : {},
    );
    return this.registrar.ingestUrl(agency.id, ingestSecret);
  }

  /**
   * The registered webhook read from Ultravox now, within LIVE_READ_TIMEOUT_MS (fresh whenever Ultravox
   * answers, and the GET never waits long): `missing` when Ultravox no longer has it; when Ultravox
   * cannot be asked, `unknown` with the workers' last finding and its time. null without a webhook.
   */
  private async webhookHealth(agency: Agency): Promise<UltravoxWebhookHealthDto | null> {
    const webhookId = agency.ultravoxWebhookId;
    if (!webhookId || !agency.ultravoxApiKeyEncrypted) return null;
    const lastKnown: UltravoxWebhookHealthDto = {
      webhook_id: webhookId,
      status: 'unknown',
      last_known_status: agency.ultravoxWebhookStatus,
      last_status_change: agency.ultravoxWebhookStatusChangedAt,
      recent_failures: agency.ultravoxWebhookRecentFailures ?? [],
      checked_at: agency.ultravoxWebhookCheckedAt,
      live: false,
      problem: agency.ultravoxCheckProblem,
      reregistered_at: agency.ultravoxWebhookReregisteredAt,
    };
    // A key Ultravox rejected is not tried again until it is saved again.
    if (agency.ultravoxKeyRejectedAt) return lastKnown;
    const now = this.clock.now();
    const live = { ...lastKnown, checked_at: now, live: true, problem: null };
    try {
      const apiKey = this.apiKey(agency.id, agency.ultravoxApiKeyEncrypted);
      const health = webhookHealth(
        await this.ultravox.getWebhook(apiKey, webhookId, {
          timeoutMs: Math.min(LIVE_READ_TIMEOUT_MS, this.config.ultravox.timeoutMs),
        }),
      );
      return {
        ...live,
        status: health.status,
        last_known_status: health.status,
        last_status_change: health.statusChangedAt,
        recent_failures: health.recentFailures,
      };
    } catch (err) {
      if (!(err instanceof UltravoxError)) throw err;
      if (err.failure === 'not_found') {
        return {
          ...live,
          status: 'missing',
          last_known_status: 'missing',
          last_status_change: null,
          recent_failures: [],
        };
      }
      return { ...lastKnown, problem: `Ultravox could not be asked just now: ${err.message}` };
    }
  }

  /** The account's concurrent-call limit; undefined when Ultravox could not tell (the workers ask later). */
  private async readAccountLimit(agencyId: string, apiKey: string): Promise<number | null | undefined> {
    try {
      return accountLimit(await this.ultravox.getAccount(apiKey));
    } catch (err) {
      this.logger.warn({ msg: 'could not read the Ultravox account', agencyId, err: (err as Error).message });
      return undefined;
    }
  }

  /** The webhook just registered, as Ultravox answered. */
  private freshWebhook({ webhook }: RegisteredWebhook, now: Date): Partial<Agency> {
    const health = webhookHealth(webhook);
    return {
      ultravoxWebhookId: webhook.webhookId,
      ultravoxWebhookStatus: health.status,
      ultravoxWebhookStatusChangedAt: health.statusChangedAt,
      ultravoxWebhookRecentFailures: health.recentFailures,
      ultravoxWebhookCheckedAt: now,
    };
  }

  /** A save without register_webhook keeps the webhook and what is known of it. */
  private keptWebhook(agency: Agency): Partial<Agency> {
    return {
      ultravoxWebhookStatus: agency.ultravoxWebhookStatus,
      ultravoxWebhookStatusChangedAt: agency.ultravoxWebhookStatusChangedAt,
      ultravoxWebhookRecentFailures: agency.ultravoxWebhookRecentFailures,
      ultravoxWebhookCheckedAt: agency.ultravoxWebhookCheckedAt,
      ultravoxWebhookReregisteredAt: agency.ultravoxWebhookReregisteredAt,
    };
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
