import { Inject, Injectable } from '@nestjs/common';
import { AgencySecrets } from '../agencies/agency-secrets';
import { Agency } from '../agencies/agency.entity';
import { randomSecret } from '../common/crypto/random-secret';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { UltravoxClient, UltravoxWebhook } from '../ultravox/ultravox.client';
import { UltravoxError } from '../ultravox/ultravox.errors';

/**
 * The Ultravox events Switchboard follows a call by (call.billed: its billing, issue 15): the one list
 * that registration at save, rotation and the workers' re-registration all send.
 */
export const ULTRAVOX_WEBHOOK_EVENTS = ['call.started', 'call.joined', 'call.ended', 'call.billed'];

export interface RegisteredWebhook {
  webhook: UltravoxWebhook;
  signingSecret: string;
  /** The agency had no signing secret: this one was made for it and must be stored with the webhook id. */
  newSecret: boolean;
}

/**
 * Registers an agency's Ultravox webhook: its ingest URL, ULTRAVOX_WEBHOOK_EVENTS and the agency's
 * signing secret (made once, then stable). Ultravox failures are thrown as UltravoxError for the caller
 * to judge (the save answers 400/502; the workers wait and try again).
 */
@Injectable()
export class UltravoxWebhookRegistrar {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly secrets: AgencySecrets,
    private readonly ultravox: UltravoxClient,
  ) {}

  ingestUrl(agencyId: string, ingestSecret: string): string {
    return `${this.config.publicBaseUrl}/functions/v1/webhook-ingest/${agencyId}/${ingestSecret}`;
  }

  ingestSecret(agency: Agency): string {
    return this.secrets.decrypt('ingest_secret', agency.id, agency.ingestSecretEncrypted);
  }

  /** Updates the registered webhook when Ultravox still has it, else creates one. */
  async register(agency: Agency, apiKey: string, ingestSecret: string): Promise<RegisteredWebhook> {
    const { body, signingSecret, newSecret } = this.webhookBody(agency, ingestSecret);
    if (agency.ultravoxWebhookId) {
      try {
        const webhook = await this.ultravox.updateWebhook(apiKey, agency.ultravoxWebhookId, body);
        return { webhook, signingSecret, newSecret };
      } catch (err) {
        if (!(err instanceof UltravoxError && err.failure === 'not_found')) throw err;
      }
    }
    return { webhook: await this.ultravox.createWebhook(apiKey, body), signingSecret, newSecret };
  }

  /** A new webhook for the agency's current ingest URL (the registered one is gone). */
  async create(agency: Agency, apiKey: string): Promise<RegisteredWebhook> {
    const { body, signingSecret, newSecret } = this.webhookBody(agency, this.ingestSecret(agency));
    return { webhook: await this.ultravox.createWebhook(apiKey, body), signingSecret, newSecret };
  }

  /**
   * Whether the webhook Ultravox has points elsewhere or follows other events than the ones registered
   * now. Judged only on fields Ultravox returned (a reply without them is not taken for a change).
   */
  drifted(agency: Agency, webhook: UltravoxWebhook): boolean {
    const url =
      typeof webhook.url === 'string' && webhook.url !== this.ingestUrl(agency.id, this.ingestSecret(agency));
    const events =
      Array.isArray(webhook.events) &&
      (webhook.events.length !== ULTRAVOX_WEBHOOK_EVENTS.length ||
        ULTRAVOX_WEBHOOK_EVENTS.some((event) => !webhook.events.includes(event)));
    return url || events;
  }

  private webhookBody(agency: Agency, ingestSecret: string) {
    const stored = agency.ultravoxSigningSecretEncrypted;
    const signingSecret = stored
      ? this.secrets.decrypt('ultravox_signing_secret', agency.id, stored)
      : randomSecret();
    const body = {
      url: this.ingestUrl(agency.id, ingestSecret),
      events: ULTRAVOX_WEBHOOK_EVENTS,
      secrets: [signingSecret],
    };
    return { body, signingSecret, newSecret: !stored };
  }
}
