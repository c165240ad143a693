import { Inject } from '@nestjs/common';
import { AgencySecrets } from '../../agencies/agency-secrets';
import { Clock } from '../../common/clock';
import { PeriodicTask } from '../../common/periodic-task';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { UltravoxCall, UltravoxClient } from '../../ultravox/ultravox.client';
import { UltravoxError } from '../../ultravox/ultravox.errors';
import { RECONCILE_BATCH } from './reconcile-policy';

/** A call a pass reads back from Ultravox. */
export interface CallToRead {
  id: string;
  agencyId: string;
  ultravoxCallId: string;
}

/** Ultravox asks us to slow down (429) or has no capacity (503): the agency waits, nothing is decided. */
export const throttled = (err: UltravoxError): boolean =>
  err.failure === 'rate_limited' || err.status === 503;

/**
 * A periodic pass over calls read back with GET /api/calls/{id} (CallReconciler: live calls whose
 * webhooks were lost; BillingReconciler: ended calls whose call.billed was): the due calls, at most
 * RECONCILE_BATCH, each through `isolated`; an agency Ultravox throttled during the pass (`read` adds
 * it to `waiting`) is left alone for the rest of it.
 */
export abstract class UltravoxReadPass<T extends CallToRead> extends PeriodicTask {
  // Property-injected, as PeriodicTask's Redis: the passes' constructors take only what is their own.
  @Inject(APP_CONFIG) protected readonly config!: AppConfig;
  @Inject(Clock) protected readonly clock!: Clock;
  @Inject(AgencySecrets) private readonly secrets!: AgencySecrets;
  @Inject(UltravoxClient) private readonly ultravox!: UltravoxClient;
  /** Names an item's work in the log line of its failure. */
  protected abstract readonly readingWhat: string;

  /** The calls due at `now`, oldest first, at most `limit`. */
  protected abstract due(now: Date, limit: number): Promise<T[]>;
  protected abstract read(call: T, now: Date, waiting: Set<string>): Promise<void>;

  protected intervalMs(): number {
    return this.config.calls.sweepIntervalMs;
  }

  protected async runOnce(): Promise<void> {
    const now = this.clock.now();
    const due = await this.due(now, RECONCILE_BATCH);
    const waiting = new Set<string>();
    for (const call of due) {
      if (this.stopping) return;
      if (waiting.has(call.agencyId)) continue;
      await this.isolated(this.readingWhat, { callId: call.id, agencyId: call.agencyId }, () =>
        this.read(call, now, waiting),
      );
    }
  }

  /** The call as Ultravox has it; a removed key reads as a rejected one. */
  protected async remoteCall(call: T): Promise<UltravoxCall> {
    const apiKey = await this.secrets.ultravoxApiKey(call.agencyId);
    if (!apiKey) throw new UltravoxError('rejected_key', 'the agency removed its Ultravox key');
    return this.ultravox.getCall(apiKey, call.ultravoxCallId);
  }
}
