import { Inject, Injectable, Logger } from '@nestjs/common';
import { AgencySecrets } from '../../agencies/agency-secrets';
import { Clock } from '../../common/clock';
import { PeriodicTask } from '../../common/periodic-task';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { UltravoxClient } from '../../ultravox/ultravox.client';
import { UltravoxError } from '../../ultravox/ultravox.errors';
import { finalBilling } from '../billing';
import { CallAwaitingBilling, CallsRepository } from '../calls.repository';
import { billingGivenUp, RECONCILE_BATCH, recheckDelayMs } from './reconcile-policy';

/**
 * A lost call.billed is filled in by reading the call back (issue 15): an ended call still `pending`
 * CALLS_RECONCILE_AFTER after its end is read with GET /api/calls/{id}; billed → stored as call.billed
 * would have; still pending → looked at again after a growing interval (as live calls are, at most
 * 30 min apart); BILLING_WAIT_MS after its end (or unknown to Ultravox) → `unavailable`. Billing is
 * not a status: nothing is emitted. A 429/503 pushes the call out and ends the pass for that agency.
 */
@Injectable()
export class BillingReconciler extends PeriodicTask {
  protected readonly logger = new Logger(BillingReconciler.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly callRows: CallsRepository,
    private readonly ultravox: UltravoxClient,
    private readonly secrets: AgencySecrets,
    private readonly clock: Clock,
  ) {
    super();
  }

  protected intervalMs(): number {
    return this.config.calls.sweepIntervalMs;
  }

  protected async runOnce(): Promise<void> {
    const now = this.clock.now();
    const endedBefore = new Date(now.getTime() - this.config.calls.reconcileAfterMs);
    const due = await this.callRows.dueForBilling(endedBefore, now, RECONCILE_BATCH);
    const waiting = new Set<string>();
    for (const call of due) {
      if (this.stopping) return;
      if (waiting.has(call.agencyId)) continue;
      await this.isolated(
        "reading a call's billing from Ultravox",
        { callId: call.id, agencyId: call.agencyId },
        () => this.check(call, now, waiting),
      );
    }
  }

  private async check(call: CallAwaitingBilling, now: Date, waiting: Set<string>): Promise<void> {
    try {
      const apiKey = await this.secrets.ultravoxApiKey(call.agencyId);
      if (!apiKey) throw new UltravoxError('rejected_key', 'the agency removed its Ultravox key');
      const billing = finalBilling(await this.ultravox.getCall(apiKey, call.ultravoxCallId));
      if (billing) return await this.callRows.recordBilling(call.id, billing);
    } catch (err) {
      if (!(err instanceof UltravoxError)) throw err;
      if (err.failure === 'not_found') return this.callRows.billingUnavailable(call.id);
      if (err.failure === 'rate_limited' || err.status === 503) {
        waiting.add(call.agencyId);
        const wait = err.retryAfterMs ?? this.nextDelay(call.checks || 1);
        return this.callRows.scheduleBillingCheck(call.id, new Date(now.getTime() + wait), call.checks);
      }
    }
    if (billingGivenUp(call.endedAt, now)) return this.callRows.billingUnavailable(call.id);
    const checks = call.checks + 1;
    await this.callRows.scheduleBillingCheck(
      call.id,
      new Date(now.getTime() + this.nextDelay(checks)),
      checks,
    );
  }

  private nextDelay(checks: number): number {
    return recheckDelayMs(this.config.calls.reconcileAfterMs, checks);
  }
}
