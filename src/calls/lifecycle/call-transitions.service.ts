import { Injectable } from '@nestjs/common';
import type { Tx } from '../../database/sql';
import { Metrics } from '../../metrics/metrics';
import { WebhookOutbox } from '../../webhooks/delivery/webhook-outbox.service';
import { Call } from '../call.entity';
import { callEventFields } from '../call-payload';
import { RecordingLinks } from '../recordings/recording-links';
import { CallChanges, CallTransitionsRepository, CreatedCall, NewCall } from './call-transitions.repository';

export type { CreatedCall, NewCall } from './call-transitions.repository';

export interface CompletedCall {
  endedAt: Date | null;
  durationSeconds: number | null;
  endReason: string | null;
  summary: string | null;
  shortSummary: string | null;
  sentiment: Call['sentiment'];
  transcript: Call['transcript'];
}

/** Told, after commit, that a call reached a terminal status (in this process). */
export type CallEndedListener = (call: { id: string; campaignId: string }) => void;

export type WithdrawReason = 'campaign_paused' | 'campaign_canceled';

/**
 * The only writer of calls.status. Each transition is named, conditional on the status it leaves (so
 * duplicates and races change a call once), and writes the call's timeline line with the change;
 * started/completed/failed also emit their webhook event in the same transaction, so each call gets
 * one `call.started` and exactly one terminal event.
 */
@Injectable()
export class CallTransitions {
  private readonly endedListeners: CallEndedListener[] = [];

  constructor(
    private readonly calls: CallTransitionsRepository,
    private readonly outbox: WebhookOutbox,
    private readonly metrics: Metrics,
    private readonly recordingLinks: RecordingLinks,
  ) {}

  /**
   * Listens for campaign calls that ended here, so the campaign can settle the contact and dial the
   * next one at once instead of at its next tick. Best effort: the periodic tick remains the net.
   */
  onCampaignCallEnded(listener: CallEndedListener): void {
    this.endedListeners.push(listener);
  }

  /** A new outbound call: queued, or scheduled when it has a `scheduledFor`. */
  created(call: NewCall): Promise<CreatedCall> {
    return this.calls.insertOutbound(call);
  }

  /** New outbound calls inside the caller's transaction (a campaign tick), in order. */
  async createdIn(tx: Tx, calls: readonly NewCall[]): Promise<CreatedCall[]> {
    return calls.length === 0 ? [] : this.calls.insertOutboundIn(tx, calls);
  }

  /** A call Switchboard did not place, first seen in its Ultravox webhook: inbound, dialing. */
  inboundSeen(
    agencyId: string,
    agentId: string,
    ultravoxCallId: string,
    callerNumber: string | null,
  ): Promise<void> {
    return this.calls.insertInbound(agencyId, agentId, ultravoxCallId, callerNumber);
  }

  /**
   * queued/scheduled → dialing, inside the caller's transaction and under the agency's lock, if the
   * call is still claimable and the agency is under `cap` live calls. The new attempt count, or null.
   */
  claimForDial(tx: Tx, call: Pick<Call, 'id' | 'agencyId'>, now: Date, cap: number): Promise<number | null> {
    return this.calls.claimForDial(tx, call, now, cap);
  }

  /** dialing (not placed) → queued, not dialed again before `notBefore`: frees the live slot. */
  release(callId: string, why: string, notBefore: Date, retryInMs: number): Promise<void> {
    return this.calls.release(
      callId,
      notBefore,
      'dial_deferred',
      `${why}; next try in ${Math.round(retryInMs / 1000)} s`,
    );
  }

  /** dialing → queued for a call whose dial answer was lost and that Ultravox does not have. */
  requeueLostDial(callId: string): Promise<boolean> {
    return this.calls.requeueLostDial(callId, 'dial_requeued', 'Ultravox has no such call; dialing again');
  }

  /** The Ultravox call placed for this call, recorded once (`how` names the timeline line). */
  attachUltravoxCall(callId: string, ultravoxCallId: string, how: string): Promise<void> {
    return this.calls.attachUltravoxCall(callId, ultravoxCallId, how);
  }

  /**
   * A paused or canceled campaign's calls that have not rung yet → canceled (no webhook: they never
   * rang). A call already dialing is left to finish. Returns the withdrawn calls' ids.
   */
  async withdrawCampaignCalls(tx: Tx, campaignId: string, reason: WithdrawReason): Promise<string[]> {
    const withdrawn = await this.calls.withdrawCampaignCalls(tx, campaignId, reason);
    // Counted before the caller's transaction commits: a campaign whose pause then fails is rare.
    this.metrics.callEnded('canceled', reason, withdrawn.length);
    return withdrawn;
  }

  /** dialing/queued → in_progress, once; emits `call.started`. */
  async started(callId: string, startedAt: Date): Promise<boolean> {
    return this.transition(callId, 'call.started', { status: 'in_progress', startedAt }, true);
  }

  /** → completed, once; emits `call.completed`. `note` adds to the timeline line (e.g. how it was learnt). */
  async completed(callId: string, outcome: CompletedCall, note?: string): Promise<boolean> {
    return this.transition(callId, 'call.completed', { status: 'completed', ...outcome }, false, note);
  }

  /** → failed, once; emits `call.failed`. `note` adds to the timeline line after the reason. */
  async failed(
    callId: string,
    failureReason: string,
    extra: CallChanges = {},
    note?: string,
  ): Promise<boolean> {
    return this.transition(
      callId,
      'call.failed',
      { status: 'failed', failureReason, endedAt: new Date(), ...extra },
      false,
      note,
    );
  }

  private async transition(
    callId: string,
    event: 'call.started' | 'call.completed' | 'call.failed',
    changes: CallChanges & Pick<Call, 'status'>,
    notStartedOnly = false,
    note?: string,
  ): Promise<boolean> {
    const campaignId = await this.outbox.transaction(async (tx, emit) => {
      const call = await this.calls.changeLiveCall(tx, callId, changes, notStartedOnly, event, note ?? null);
      if (!call) return undefined;
      // The link's lifetime counts from now: the payload is stored as it is sent.
      const recordingUrl = this.recordingLinks.urlFor(call);
      await emit(call.agencyId, event, callEventFields(call, call.agentName, recordingUrl));
      return call.campaignId;
    });
    if (campaignId === undefined) return false;
    if (event !== 'call.started') {
      this.metrics.callEnded(event === 'call.completed' ? 'completed' : 'failed', changes.failureReason);
    }
    if (campaignId && event !== 'call.started') {
      for (const listener of this.endedListeners) listener({ id: callId, campaignId });
    }
    return true;
  }
}
