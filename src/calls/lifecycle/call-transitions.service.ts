import { Injectable } from '@nestjs/common';
import { EntityManager, In, Not } from 'typeorm';
import { Agent } from '../../agents/agent.entity';
import { WebhookOutbox } from '../../webhooks/delivery/webhook-outbox.service';
import { Call, CallEvent, TERMINAL_STATUSES } from '../call.entity';
import { callEventFields } from '../call-payload';

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

/**
 * The only way a call starts or ends. Each change is a conditional update in one transaction with
 * its event, so duplicates and races emit `call.started` once and exactly one terminal event.
 */
@Injectable()
export class CallTransitions {
  private readonly endedListeners: CallEndedListener[] = [];

  constructor(private readonly outbox: WebhookOutbox) {}

  /**
   * Listens for campaign calls that ended here, so the campaign can settle the contact and dial the
   * next one at once instead of at its next tick. Best effort: the periodic tick remains the net.
   */
  onCampaignCallEnded(listener: CallEndedListener): void {
    this.endedListeners.push(listener);
  }

  /** dialing/queued → in_progress, once; emits `call.started`. */
  async started(callId: string, startedAt: Date): Promise<boolean> {
    return this.transition(
      callId,
      'call.started',
      { status: 'in_progress', startedAt },
      'started_at IS NULL',
    );
  }

  async completed(callId: string, outcome: CompletedCall): Promise<boolean> {
    return this.transition(callId, 'call.completed', { status: 'completed', ...outcome });
  }

  async failed(callId: string, failureReason: string, extra: Partial<Call> = {}): Promise<boolean> {
    return this.transition(callId, 'call.failed', {
      status: 'failed',
      failureReason,
      endedAt: new Date(),
      ...extra,
    });
  }

  /** A line in the call's timeline. */
  async note(
    em: EntityManager,
    call: Pick<Call, 'id' | 'agencyId'>,
    event: string,
    detail: string | null = null,
  ): Promise<void> {
    await em.insert(CallEvent, {
      agencyId: call.agencyId,
      callId: call.id,
      source: 'switchboard',
      event,
      detail,
    });
  }

  private async transition(
    callId: string,
    event: 'call.started' | 'call.completed' | 'call.failed',
    changes: Partial<Call>,
    extraCondition?: string,
  ): Promise<boolean> {
    const campaignId = await this.outbox.transaction(async (em, emit) => {
      const qb = em
        .createQueryBuilder()
        .update(Call)
        .set(changes)
        .where({ id: callId, status: Not(In(TERMINAL_STATUSES)) });
      if (extraCondition) qb.andWhere(extraCondition);
      const { affected } = await qb.execute();
      if (!affected) return undefined;
      const call = await em.findOneByOrFail(Call, { id: callId });
      const agent = call.agentId ? await em.findOneBy(Agent, { id: call.agentId }) : null;
      await this.note(em, call, event, call.failureReason);
      await emit(call.agencyId, event, callEventFields(call, agent?.name ?? null));
      return call.campaignId;
    });
    if (campaignId === undefined) return false;
    if (campaignId && event !== 'call.started') {
      for (const listener of this.endedListeners) listener({ id: callId, campaignId });
    }
    return true;
  }
}
