import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';
import { isUUID } from 'class-validator';
import { AgencySecrets } from '../../agencies/agency-secrets';
import { Clock } from '../../common/clock';
import { QUEUES, SummaryCheckJob } from '../../common/queues';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { Metrics } from '../../metrics/metrics';
import { UltravoxCall, UltravoxClient } from '../../ultravox/ultravox.client';
import { finalBilling } from '../billing';
import { Call } from '../call.entity';
import { summaryCheckJob } from '../call-jobs';
import { classifyEnd, durationSeconds, mapTranscript, sentimentOf, ultravoxText } from '../call-outcome';
import { CallForEvent, CallsRepository } from '../calls.repository';
import { CALL_ID_METADATA_KEY } from '../dial/dial.service';
import { UltravoxEventsRepository } from '../ingest/ultravox-events.repository';
import { CallTransitions } from './call-transitions.service';
import { hasSummary, noSummaryNote, summaryCheckDelayMs } from './summary-wait';
import { callerNumberOf, ultravoxAgentOf } from './inbound-call';

interface UltravoxWebhookBody {
  event: string;
  call: UltravoxCall;
}

const date = (value: string | null | undefined): Date | null => (value ? new Date(value) : null);

/** How the end of a call was learnt: its `call.ended` webhook, or reading the call back (reconciliation). */
export type EndSource = 'webhook' | 'reconciliation';

const isEndSource = (value: string): value is EndSource => value === 'webhook' || value === 'reconciliation';
/** Why a stored Ultravox event led to nothing (call_events.detail of the event, marked processed). */
export const NOT_THE_AGENCYS_CALL =
  "ignored: a call Switchboard did not place, on an Ultravox agent that is not one of the agency's agents";

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
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectQueue(QUEUES.callEvents) private readonly queue: Queue<SummaryCheckJob>,
  ) {}

  /** Processes one stored webhook (call_events row); throws to be retried when Ultravox cannot be read. */
  async process(eventId: string): Promise<void> {
    const row = await this.events.find(eventId);
    if (!row || row.processedAt || !row.payload) return;
    const body = JSON.parse(row.payload) as UltravoxWebhookBody;
    const call = await this.findOrCreateCall(row.agencyId, body.call);
    if (!call) {
      // Acknowledged at ingest (204), and settled here so the sweeper does not offer it again.
      await this.events.markIgnored(row.id, NOT_THE_AGENCYS_CALL);
      this.metrics.eventProcessed(row.createdAt);
      return;
    }
    if (body.event === 'call.joined') {
      await this.transitions.started(call.id, date(body.call.joined) ?? row.createdAt);
    } else if (body.event === 'call.ended') {
      await this.ended(call, body.call);
    } else if (body.event === 'call.billed') {
      // Billing only (and the duration, when call.ended did not carry it): never a status change, so
      // never a second terminal event nor a delivery.
      await this.billing(
        call.id,
        body.call,
        call.durationSeconds === null ? durationSeconds(body.call) : null,
      );
    }
    await this.events.markProcessed(row.id, call.id);
    this.metrics.eventProcessed(row.createdAt);
  }

  /**
   * A call Ultravox says has ended → completed (with transcript and summary) or failed, once: what a
   * `call.ended` does, and what reconciliation does with a call read back ended; the timeline says which.
   * A joined call whose summary Ultravox has not written yet waits for it (up to CALLS_SUMMARY_WAIT) in
   * delayed re-read jobs, so no worker slot is held while Ultravox writes it.
   */
  async ended(
    call: Pick<Call, 'id' | 'agencyId'> & Partial<Pick<Call, 'status'>>,
    ended: UltravoxCall,
    source: EndSource = 'webhook',
  ): Promise<void> {
    const outcome = classifyEnd(ended);
    if (outcome.outcome === 'failed') {
      await this.transitions.failed(
        call.id,
        outcome.failureReason,
        { endReason: ultravoxText(ended.endReason), endedAt: date(ended.ended) ?? new Date() },
        source === 'reconciliation' ? RECONCILED_NOTE : undefined,
      );
      await this.billing(call.id, ended);
      return;
    }
    const joinedAt = date(ended.joined);
    // Known started (its call.joined came): no need for a transaction that would change nothing.
    if (joinedAt && call.status !== 'in_progress') await this.transitions.started(call.id, joinedAt);
    const waitMs = this.config.calls.summaryWaitMs;
    if (hasSummary(ended) || waitMs <= 0) return this.complete(call, ended, source, false);
    const deadline = this.clock.now().getTime() + waitMs;
    // Reconciliation leaves the call to the wait (and takes it up again if the wait's job is lost).
    await this.calls.postponeReconcile(call.id, new Date(deadline + this.config.calls.reconcileAfterMs));
    await this.checkSummaryLater({ callId: call.id, source, deadline, check: 1 });
  }

  /** One delayed re-read of a call waiting for its summary: complete with it, or after the deadline without. */
  async checkSummary(job: SummaryCheckJob): Promise<void> {
    const call = await this.calls.find(job.callId);
    if (!call?.ultravoxCallId || (call.status !== 'dialing' && call.status !== 'in_progress')) return;
    const latest = await this.ultravox.getCall(await this.apiKey(call.agencyId), call.ultravoxCallId);
    const source = isEndSource(job.source) ? job.source : 'webhook';
    const found = hasSummary(latest);
    if (found || this.clock.now().getTime() >= job.deadline) {
      return this.complete(call, latest, source, !found);
    }
    await this.checkSummaryLater({ ...job, check: job.check + 1 });
  }

  private async checkSummaryLater(data: SummaryCheckJob): Promise<void> {
    const job = summaryCheckJob(
      data,
      summaryCheckDelayMs(data.check, this.clock.now().getTime(), data.deadline),
    );
    await this.queue.add(job.name, job.data, job.opts);
  }

  /** → completed with the transcript of every stage; `gaveUp`: the summary never came. */
  private async complete(
    call: Pick<Call, 'id' | 'agencyId'>,
    remote: UltravoxCall,
    source: EndSource,
    gaveUp: boolean,
  ): Promise<void> {
    const apiKey = await this.apiKey(call.agencyId);
    const messages = await this.ultravox.listMessages(apiKey, remote.callId);
    const endedAt = date(remote.ended);
    const transcript = mapTranscript(messages, date(remote.joined), endedAt);
    const note = [
      source === 'reconciliation' ? RECONCILED_NOTE : null,
      gaveUp ? noSummaryNote(this.config.calls.summaryWaitMs) : null,
    ]
      .filter(Boolean)
      .join('; ');
    await this.transitions.completed(
      call.id,
      {
        endedAt,
        durationSeconds: durationSeconds(remote),
        endReason: ultravoxText(remote.endReason),
        summary: ultravoxText(remote.summary),
        shortSummary: ultravoxText(remote.shortSummary),
        sentiment: sentimentOf(transcript),
        transcript,
      },
      note || undefined,
    );
    await this.billing(call.id, remote);
  }

  /**
   * The billing a Call object shows: final → stored; pending → awaited (call.billed, or else the
   * BillingReconciler reads the call back).
   */
  private async billing(
    callId: string,
    remote: UltravoxCall,
    unknownDuration: number | null = null,
  ): Promise<void> {
    const billing = finalBilling(remote);
    if (billing) await this.calls.recordBilling(callId, billing, unknownDuration);
    else await this.calls.awaitBilling(callId, unknownDuration);
  }

  /**
   * By our metadata, then by Ultravox's call id. A call we never placed is recorded as inbound only
   * when it ran on one of the agency's agents (CONTRACT §7): a console test call or another program on
   * the same Ultravox account gives null, and is neither recorded nor forwarded.
   */
  private async findOrCreateCall(agencyId: string, remote: UltravoxCall): Promise<CallForEvent | null> {
    const metadataId = remote.metadata?.[CALL_ID_METADATA_KEY];
    const ours = metadataId && isUUID(metadataId) ? metadataId : null;
    const call = await this.calls.findForEvent(agencyId, ours, remote.callId);
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
    const ultravoxAgentId = ultravoxAgentOf(remote);
    const agentId = ultravoxAgentId ? await this.calls.agentIdOf(agencyId, ultravoxAgentId) : null;
    if (!agentId) return null;
    await this.transitions.inboundSeen(agencyId, agentId, remote.callId, callerNumberOf(remote));
    const created = await this.calls.findForEvent(agencyId, null, remote.callId);
    if (!created) throw new Error(`call for Ultravox call ${remote.callId} not found after creating it`);
    return created;
  }

  private async apiKey(agencyId: string): Promise<string> {
    const apiKey = await this.secrets.ultravoxApiKey(agencyId);
    if (!apiKey) throw new Error('the agency removed its Ultravox key; the transcript cannot be read');
    return apiKey;
  }
}
