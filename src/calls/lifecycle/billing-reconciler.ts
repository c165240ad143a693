import { Injectable, Logger } from '@nestjs/common';
import { UltravoxError } from '../../ultravox/ultravox.errors';
import { finalBilling } from '../billing';
import { CallAwaitingBilling, CallsRepository } from '../calls.repository';
import { billingGivenUp, recheckDelayMs } from './reconcile-policy';
import { throttled, UltravoxReadPass } from './ultravox-read-pass';

/**
 * A lost call.billed is filled in by reading the call back (issue 15): an ended call still `pending`
 * CALLS_RECONCILE_AFTER after its end is read with GET /api/calls/{id}; billed → stored as call.billed
 * would have; still pending → looked at again after a growing interval (as live calls are, at most
 * 30 min apart); BILLING_WAIT_MS after its end (or unknown to Ultravox) → `unavailable`. Billing is
 * not a status: nothing is emitted. A 429/503 pushes the call out and ends the pass for that agency.
 */
@Injectable()
export class BillingReconciler extends UltravoxReadPass<CallAwaitingBilling> {
  protected readonly logger = new Logger(BillingReconciler.name);
  protected readonly readingWhat = "reading a call's billing from Ultravox";

  constructor(private readonly callRows: CallsRepository) {
    super();
  }

  protected due(now: Date, limit: number): Promise<CallAwaitingBilling[]> {
    const endedBefore = new Date(now.getTime() - this.config.calls.reconcileAfterMs);
    return this.callRows.dueForBilling(endedBefore, now, limit);
  }

  protected async read(call: CallAwaitingBilling, now: Date, waiting: Set<string>): Promise<void> {
    try {
      const billing = finalBilling(await this.remoteCall(call));
      if (billing) return await this.callRows.recordBilling(call.id, billing);
    } catch (err) {
      if (!(err instanceof UltravoxError)) throw err;
      if (err.failure === 'not_found') return this.callRows.billingUnavailable(call.id);
      if (throttled(err)) {
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
