import { Inject, Injectable, Logger } from '@nestjs/common';
import { AgencySecrets } from '../agencies/agency-secrets';
import { Agency } from '../agencies/agency.entity';
import { Clock } from '../common/clock';
import { PeriodicTask } from '../common/periodic-task';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { UltravoxClient } from '../ultravox/ultravox.client';
import { UltravoxError } from '../ultravox/ultravox.errors';
import { UltravoxAccountChecksRepository } from './ultravox-account-checks.repository';
import { accountLimit, webhookHealth } from './ultravox-webhook-health';
import { RegisteredWebhook, UltravoxWebhookRegistrar } from './ultravox-webhook-registrar';

/** Agencies checked in one pass at most; the rest are the most overdue of the next. */
export const CHECK_BATCH = 100;
/** Agencies checked at once: one agency's slow Ultravox holds up one lane, never the pass. */
const LANES = 8;
/** A pass looks for due agencies at least this often, whatever ULTRAVOX_WEBHOOK_CHECK_INTERVAL says. */
const MAX_PASS_INTERVAL_MS = 10_000;

/** The webhook registered again by a check; `created`: with a new id (it was gone), else updated. */
interface Reregistration {
  registered: RegisteredWebhook;
  created: boolean;
}

/** Ultravox asks us to slow down (429) or has no capacity (503): the agency waits, nothing is decided. */
const throttled = (err: UltravoxError): boolean => err.failure === 'rate_limited' || err.status === 503;
/** accounts/me answered, but with nothing to read (not offered, refused): the limit stays as it was. */
const unreadable = (err: UltravoxError): boolean =>
  err.failure === 'not_found' || err.failure === 'bad_request' || err.failure === 'unexpected';

/**
 * Every ULTRAVOX_WEBHOOK_CHECK_INTERVAL, each agency with a stored key (issue 13, points 2 and 6):
 * reads the account's `allowedConcurrentCalls` (the agency's live-call cap is the smaller of it and
 * MAX_CONCURRENT_CALLS_PER_AGENCY) and, when it registered a webhook, the webhook's status; a webhook
 * Ultravox no longer has (404: deleted in the console) is registered again — same URL, events and
 * signing secret — and its new id stored. A 429/503 puts the agency off by Retry-After; a rejected
 * key stops its checks until a key is saved again. Runs once across the workers (PeriodicTask), at
 * most CHECK_BATCH agencies a pass, LANES at a time, each isolated from the others.
 */
@Injectable()
export class UltravoxAccountMonitor extends PeriodicTask {
  protected readonly logger = new Logger(UltravoxAccountMonitor.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly checks: UltravoxAccountChecksRepository,
    private readonly registrar: UltravoxWebhookRegistrar,
    private readonly ultravox: UltravoxClient,
    private readonly secrets: AgencySecrets,
    private readonly clock: Clock,
  ) {
    super();
  }

  protected intervalMs(): number {
    return Math.min(this.config.ultravox.webhookCheckIntervalMs, MAX_PASS_INTERVAL_MS);
  }

  protected async runOnce(): Promise<void> {
    const now = this.clock.now();
    const due = await this.checks.due(now, CHECK_BATCH);
    let next = 0;
    const lane = async (): Promise<void> => {
      for (let agency = due[next++]; agency && !this.stopping; agency = due[next++]) {
        const checked = agency;
        const done = await this.isolated('checking the Ultravox account', { agencyId: checked.id }, () =>
          this.check(checked, now),
        );
        // Failed on our side (logged): looked at again an interval later, not at the head of every pass.
        if (!done) await this.postpone(checked, now);
      }
    };
    await Promise.all(Array.from({ length: Math.min(LANES, due.length) }, lane));
  }

  private async check(agency: Agency, now: Date): Promise<void> {
    const apiKey = this.secrets.decrypt(
      'ultravox_api_key',
      agency.id,
      agency.ultravoxApiKeyEncrypted as string,
    );
    const changes: Partial<Agency> = {
      ultravoxNextCheckAt: this.after(now, this.config.ultravox.webhookCheckIntervalMs),
      ultravoxCheckProblem: null,
    };
    let again: Reregistration | undefined;
    try {
      Object.assign(changes, await this.account(apiKey, now));
      if (agency.ultravoxWebhookId) again = await this.webhook(agency, apiKey, now, changes);
    } catch (err) {
      if (!(err instanceof UltravoxError)) throw err;
      Object.assign(changes, this.unanswered(agency, err, now));
    }
    await this.save(agency, apiKey, changes, again);
  }

  private async account(apiKey: string, now: Date): Promise<Partial<Agency>> {
    try {
      const allowed = accountLimit(await this.ultravox.getAccount(apiKey));
      return { ultravoxAllowedConcurrentCalls: allowed, ultravoxAccountCheckedAt: now };
    } catch (err) {
      if (err instanceof UltravoxError && unreadable(err)) return {};
      throw err;
    }
  }

  /**
   * Reads the webhook's status into `changes`. One Ultravox no longer has is registered again (a new
   * id); one whose URL or events differ from what Switchboard registers (changed in the console, or a
   * release that follows more events) is put back as it should be (the same id).
   */
  private async webhook(
    agency: Agency,
    apiKey: string,
    now: Date,
    changes: Partial<Agency>,
  ): Promise<Reregistration | undefined> {
    try {
      const found = await this.ultravox.getWebhook(apiKey, agency.ultravoxWebhookId as string);
      Object.assign(changes, this.health(found, now));
      if (!this.registrar.drifted(agency, found)) return undefined;
      const updated = await this.registrar.register(agency, apiKey, this.registrar.ingestSecret(agency));
      return this.reregistered(updated, updated.webhook.webhookId !== found.webhookId, now, changes);
    } catch (err) {
      if (!(err instanceof UltravoxError && err.failure === 'not_found')) throw err;
    }
    // Still `missing` if registering it again fails: the next check tries again.
    Object.assign(changes, {
      ultravoxWebhookStatus: 'missing',
      ultravoxWebhookStatusChangedAt: null,
      ultravoxWebhookRecentFailures: [],
      ultravoxWebhookCheckedAt: now,
    });
    return this.reregistered(await this.registrar.create(agency, apiKey), true, now, changes);
  }

  private reregistered(
    registered: RegisteredWebhook,
    created: boolean,
    now: Date,
    changes: Partial<Agency>,
  ): Reregistration {
    Object.assign(changes, this.health(registered.webhook, now), {
      ultravoxWebhookId: registered.webhook.webhookId,
      ultravoxWebhookReregisteredAt: now,
    });
    return { registered, created };
  }

  private health(webhook: Parameters<typeof webhookHealth>[0], now: Date): Partial<Agency> {
    const health = webhookHealth(webhook);
    return {
      ultravoxWebhookStatus: health.status,
      ultravoxWebhookStatusChangedAt: health.statusChangedAt,
      ultravoxWebhookRecentFailures: health.recentFailures,
      ultravoxWebhookCheckedAt: now,
    };
  }

  /** Ultravox did not answer usefully: what the agency's next check waits for, and what the GET says. */
  private unanswered(agency: Agency, err: UltravoxError, now: Date): Partial<Agency> {
    if (err.failure === 'rejected_key') {
      this.logger.warn({ msg: 'Ultravox rejected the stored key; its checks stop', agencyId: agency.id });
      return {
        ultravoxKeyRejectedAt: now,
        ultravoxCheckProblem: `Ultravox rejected the stored API key (${err.message}); checks stop until a key is saved again`,
      };
    }
    if (throttled(err)) {
      const wait = err.retryAfterMs ?? this.config.ultravox.webhookCheckIntervalMs;
      return {
        ultravoxNextCheckAt: this.after(now, wait),
        ultravoxCheckProblem: `Ultravox asked to wait: ${err.message}`,
      };
    }
    return { ultravoxCheckProblem: `Ultravox could not be asked: ${err.message}` };
  }

  private async save(
    agency: Agency,
    apiKey: string,
    changes: Partial<Agency>,
    again: Reregistration | undefined,
  ): Promise<void> {
    if (again?.registered.newSecret) {
      // Only an agency that never had a signing secret: stored like every secret, announced to every process.
      await this.secrets.store(
        agency.id,
        { ultravox_signing_secret: again.registered.signingSecret },
        changes,
      );
    } else if (!(await this.checks.record(agency, changes))) {
      // A save or a removal changed the key or the webhook meanwhile: its state wins.
      if (again?.created) await this.removeUnneeded(agency, apiKey, again.registered.webhook.webhookId);
      return;
    }
    if (again) {
      this.logger.warn({
        msg: again.created
          ? 'the agency’s Ultravox webhook was gone; registered it again'
          : 'the agency’s Ultravox webhook had been changed; put its URL and events back',
        agencyId: agency.id,
        previousWebhookId: agency.ultravoxWebhookId,
        webhookId: again.registered.webhook.webhookId,
      });
    }
  }

  private async postpone(agency: Agency, now: Date): Promise<void> {
    const next = this.after(now, this.config.ultravox.webhookCheckIntervalMs);
    // Failing too (Postgres unreachable) is the outage `isolated` has just logged.
    await this.checks.record(agency, { ultravoxNextCheckAt: next }).catch(() => undefined);
  }

  private async removeUnneeded(agency: Agency, apiKey: string, webhookId: string): Promise<void> {
    await this.ultravox.deleteWebhook(apiKey, webhookId).catch((err: Error) =>
      this.logger.warn({
        msg: 'could not remove an unneeded Ultravox webhook',
        agencyId: agency.id,
        err: err.message,
      }),
    );
  }

  private after(now: Date, ms: number): Date {
    return new Date(now.getTime() + ms);
  }
}
