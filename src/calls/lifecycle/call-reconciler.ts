import { Injectable, Logger } from '@nestjs/common';
import { UltravoxCall } from '../../ultravox/ultravox.client';
import { UltravoxError } from '../../ultravox/ultravox.errors';
import { parseDuration } from '../call-outcome';
import { CallsRepository, CallToReconcile } from '../calls.repository';
import { CallLifecycleService, RECONCILED_NOTE } from './call-lifecycle.service';
import { CallTransitions } from './call-transitions.service';
import { recheckDelayMs, unreadableDeadline } from './reconcile-policy';
import { throttled, UltravoxReadPass } from './ultravox-read-pass';

/**
 * Every call ends even when Ultravox's webhooks are lost (CONTRACT §6 lifecycle): a live call with an
 * Ultravox id that has heard nothing for CALLS_RECONCILE_AFTER is read back with GET /api/calls/{id}.
 * Ended → processed as its call.ended would have been (CallLifecycleService.ended; the transitions are
 * conditional, so a late webhook changes nothing); live → looked at again after a growing interval;
 * unknown to Ultravox (404) → call.failed `ultravox_call_not_found`; unreadable past its maxDuration
 * plus a grace → call.failed `ultravox_unreachable`. A 429/503 pushes the call's next look out and ends
 * the pass for that agency.
 */
@Injectable()
export class CallReconciler extends UltravoxReadPass<CallToReconcile> {
  protected readonly logger = new Logger(CallReconciler.name);
  protected readonly readingWhat = 'reconciling a call with Ultravox';

  constructor(
    private readonly callRows: CallsRepository,
    private readonly lifecycle: CallLifecycleService,
    private readonly transitions: CallTransitions,
  ) {
    super();
  }

  protected due(now: Date, limit: number): Promise<CallToReconcile[]> {
    const silentSince = new Date(now.getTime() - this.config.calls.reconcileAfterMs);
    return this.callRows.dueForReconcile(silentSince, now, limit);
  }

  /** `waiting` collects the agencies Ultravox throttled during this pass. */
  protected async read(call: CallToReconcile, now: Date, waiting: Set<string>): Promise<void> {
    let remote: UltravoxCall;
    try {
      remote = await this.remoteCall(call);
    } catch (err) {
      if (!(err instanceof UltravoxError)) throw err;
      return this.unanswered(call, now, err, waiting);
    }
    if (!remote.ended) return this.lookAgain(call, now, parseDuration(remote.maxDuration));
    try {
      await this.lifecycle.ended(call, remote, 'reconciliation');
    } catch (err) {
      // Reading the transcript was throttled: the same look again later; anything else is retried next pass.
      if (err instanceof UltravoxError && throttled(err)) return this.pushOut(call, now, err, waiting);
      throw err;
    }
  }

  private async unanswered(
    call: CallToReconcile,
    now: Date,
    err: UltravoxError,
    waiting: Set<string>,
  ): Promise<void> {
    if (err.failure === 'not_found') {
      await this.transitions.failed(call.id, 'ultravox_call_not_found', {}, RECONCILED_NOTE);
      return;
    }
    if (throttled(err)) return this.pushOut(call, now, err, waiting);
    if (now >= unreadableDeadline(call.placedAt, call.maxDurationSeconds)) {
      await this.transitions.failed(
        call.id,
        'ultravox_unreachable',
        { endReason: err.message.slice(0, 500) },
        RECONCILED_NOTE,
      );
      return;
    }
    await this.lookAgain(call, now, null);
  }

  /** Still live (or unreadable): the next look after a growing interval. */
  private async lookAgain(
    call: CallToReconcile,
    now: Date,
    maxDurationSeconds: number | null,
  ): Promise<void> {
    const checks = call.checks + 1;
    const next = new Date(now.getTime() + recheckDelayMs(this.config.calls.reconcileAfterMs, checks));
    await this.callRows.scheduleReconcile(call.id, next, checks, maxDurationSeconds);
  }

  /** Throttled: this call waits (Retry-After when given), and so do the agency's others this pass. */
  private async pushOut(
    call: CallToReconcile,
    now: Date,
    err: UltravoxError,
    waiting: Set<string>,
  ): Promise<void> {
    waiting.add(call.agencyId);
    const wait =
      err.retryAfterMs ?? recheckDelayMs(this.config.calls.reconcileAfterMs, Math.max(call.checks, 1));
    await this.callRows.scheduleReconcile(call.id, new Date(now.getTime() + wait), call.checks);
  }
}
