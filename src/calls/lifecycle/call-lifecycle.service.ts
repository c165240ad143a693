import { Injectable } from '@nestjs/common';
import { isUUID } from 'class-validator';
import { AgencySecrets } from '../../agencies/agency-secrets';
import { Metrics } from '../../metrics/metrics';
import { UltravoxCall, UltravoxClient } from '../../ultravox/ultravox.client';
import { Call } from '../call.entity';
import { classifyEnd, durationSeconds, mapTranscript, sentimentOf } from '../call-outcome';
import { CallsRepository } from '../calls.repository';
import { CALL_ID_METADATA_KEY } from '../dial/dial.service';
import { UltravoxEventsRepository } from '../ingest/ultravox-events.repository';
import { CallTransitions } from './call-transitions.service';

interface UltravoxWebhookBody {
  event: string;
  call: UltravoxCall;
}

const date = (value: string | null | undefined): Date | null => (value ? new Date(value) : null);

/** How the end of a call was learnt: its `call.ended` webhook, or reading the call back (reconciliation). */
export type EndSource = 'webhook' | 'reconciliation';

/** The timeline's note on a result that came from reconciliation. */
export const RECONCILED_NOTE = 'learnt by reconciliation with Ultravox, not from its webhook';

/**
 * Follows a call through Ultravox's webhooks (CONTRACT §5.2, §6). Events may come twice or out of
 * order: the transitions are conditional, so each call gets one call.started and one terminal event.
 */
@Injectable()
export class CallLifecycleService {
  constructor(
    private readonly calls: CallsRepository,
    private readonly events: UltravoxEventsRepository,
    private readonly transitions: CallTransitions,
    private readonly ultravox: UltravoxClient,
    private readonly secrets: AgencySecrets,
    private readonly metrics: Metrics,
  ) {}

  /** Processes one stored webhook (call_events row); throws to be retried when Ultravox cannot be read. */
  async process(eventId: string): Promise<void> {
    const row = await this.events.find(eventId);
    if (!row || row.processedAt || !row.payload) return;
    const body = JSON.parse(row.payload) as UltravoxWebhookBody;
    const call = await this.findOrCreateCall(row.agencyId, body.call);
    if (body.event === 'call.joined') {
      await this.transitions.started(call.id, date(body.call.joined) ?? row.createdAt);
    } else if (body.event === 'call.ended') {
      await this.ended(call, body.call);
    } else if (body.event === 'call.billed' && call.durationSeconds === null) {
      await this.calls.recordDuration(call.id, durationSeconds(body.call));
    }
    await this.events.markProcessed(row.id, call.id);
    this.metrics.eventProcessed(row.createdAt);
  }

  /**
   * A call Ultravox says has ended → completed (with transcript and summary) or failed, once: what a
   * `call.ended` does, and what reconciliation does with a call read back ended; the timeline says which.
   */
  async ended(
    call: Pick<Call, 'id' | 'agencyId'>,
    ended: UltravoxCall,
    source: EndSource = 'webhook',
  ): Promise<void> {
    const note = source === 'reconciliation' ? RECONCILED_NOTE : undefined;
    const outcome = classifyEnd(ended);
    if (outcome.outcome === 'failed') {
      await this.transitions.failed(
        call.id,
        outcome.failureReason,
        { endReason: ended.endReason ?? null, endedAt: date(ended.ended) ?? new Date() },
        note,
      );
      return;
    }
    const apiKey = await this.apiKey(call.agencyId);
    const [messages, latest] = await Promise.all([
      this.ultravox.listMessages(apiKey, ended.callId),
      this.ultravox.getCall(apiKey, ended.callId),
    ]);
    const joinedAt = date(latest.joined ?? ended.joined);
    if (joinedAt) await this.transitions.started(call.id, joinedAt);
    const transcript = mapTranscript(messages, joinedAt);
    await this.transitions.completed(
      call.id,
      {
        endedAt: date(latest.ended ?? ended.ended),
        durationSeconds: durationSeconds({ ...ended, ...latest }),
        endReason: latest.endReason ?? ended.endReason ?? null,
        summary: latest.summary ?? ended.summary ?? null,
        shortSummary: latest.shortSummary ?? ended.shortSummary ?? null,
        sentiment: sentimentOf(transcript),
        transcript,
      },
      note,
    );
  }

  /** By our metadata, then by Ultravox's call id; a call we never placed is recorded as inbound. */
  private async findOrCreateCall(agencyId: string, remote: UltravoxCall): Promise<Call> {
    const ours = remote.metadata?.[CALL_ID_METADATA_KEY];
    let call = ours && isUUID(ours) ? await this.calls.findInAgency(agencyId, ours) : null;
    call ??= await this.calls.findByUltravoxCallId(agencyId, remote.callId);
    if (call) {
      if (!call.ultravoxCallId) {
        await this.transitions.attachUltravoxCall(
          call.id,
          remote.callId,
          'ultravox call seen in its webhook',
        );
      }
      return call;
    }
    const agentId = remote.agent?.agentId ? await this.calls.agentIdOf(agencyId, remote.agent.agentId) : null;
    await this.transitions.inboundSeen(agencyId, agentId, remote.callId);
    const created = await this.calls.findByUltravoxCallId(agencyId, remote.callId);
    if (!created) throw new Error(`call for Ultravox call ${remote.callId} not found after creating it`);
    return created;
  }

  private async apiKey(agencyId: string): Promise<string> {
    const apiKey = await this.secrets.ultravoxApiKey(agencyId);
    if (!apiKey) throw new Error('the agency removed its Ultravox key; the transcript cannot be read');
    return apiKey;
  }
}
