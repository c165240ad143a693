import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { isUUID } from 'class-validator';
import { DataSource } from 'typeorm';
import { AgencySecrets } from '../../agencies/agency-secrets';
import { Agent } from '../../agents/agent.entity';
import { UltravoxCall, UltravoxClient } from '../../ultravox/ultravox.client';
import { Call, CallEvent } from '../call.entity';
import { classifyEnd, durationSeconds, mapTranscript, sentimentOf } from '../call-outcome';
import { CALL_ID_METADATA_KEY } from '../dial/dial.service';
import { CallTransitions } from './call-transitions.service';

interface UltravoxWebhookBody {
  event: string;
  call: UltravoxCall;
}

const date = (value: string | null | undefined): Date | null => (value ? new Date(value) : null);

/**
 * Follows a call through Ultravox's webhooks (CONTRACT §5.2, §6). Events may come twice or out of
 * order: the transitions are conditional, so each call gets one call.started and one terminal event.
 */
@Injectable()
export class CallLifecycleService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly transitions: CallTransitions,
    private readonly ultravox: UltravoxClient,
    private readonly secrets: AgencySecrets,
  ) {}

  /** Processes one stored webhook (call_events row); throws to be retried when Ultravox cannot be read. */
  async process(eventId: string): Promise<void> {
    const row = await this.dataSource.getRepository(CallEvent).findOneBy({ id: eventId });
    if (!row || row.processedAt || !row.payload) return;
    const body = JSON.parse(row.payload) as UltravoxWebhookBody;
    const call = await this.findOrCreateCall(row.agencyId, body.call);
    if (body.event === 'call.joined') {
      await this.transitions.started(call.id, date(body.call.joined) ?? row.createdAt);
    } else if (body.event === 'call.ended') {
      await this.ended(call, body.call);
    } else if (body.event === 'call.billed' && call.durationSeconds === null) {
      await this.dataSource.query(
        `UPDATE calls SET duration_seconds = $2 WHERE id = $1 AND duration_seconds IS NULL`,
        [call.id, durationSeconds(body.call)],
      );
    }
    await this.dataSource.query(`UPDATE call_events SET processed_at = now(), call_id = $2 WHERE id = $1`, [
      row.id,
      call.id,
    ]);
  }

  private async ended(call: Call, ended: UltravoxCall): Promise<void> {
    const outcome = classifyEnd(ended);
    if (outcome.outcome === 'failed') {
      await this.transitions.failed(call.id, outcome.failureReason, {
        endReason: ended.endReason ?? null,
        endedAt: date(ended.ended) ?? new Date(),
      });
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
    await this.transitions.completed(call.id, {
      endedAt: date(latest.ended ?? ended.ended),
      durationSeconds: durationSeconds({ ...ended, ...latest }),
      endReason: latest.endReason ?? ended.endReason ?? null,
      summary: latest.summary ?? ended.summary ?? null,
      shortSummary: latest.shortSummary ?? ended.shortSummary ?? null,
      sentiment: sentimentOf(transcript),
      transcript,
    });
  }

  /** By our metadata, then by Ultravox's call id; a call we never placed is recorded as inbound. */
  private async findOrCreateCall(agencyId: string, remote: UltravoxCall): Promise<Call> {
    const calls = this.dataSource.getRepository(Call);
    const ours = remote.metadata?.[CALL_ID_METADATA_KEY];
    let call = ours && isUUID(ours) ? await calls.findOneBy({ id: ours, agencyId }) : null;
    call ??= await calls.findOneBy({ ultravoxCallId: remote.callId, agencyId });
    if (call) {
      if (!call.ultravoxCallId) {
        await this.dataSource.query(
          `UPDATE calls SET ultravox_call_id = $2 WHERE id = $1 AND ultravox_call_id IS NULL`,
          [call.id, remote.callId],
        );
      }
      return call;
    }
    const agent = remote.agent?.agentId
      ? await this.dataSource
          .getRepository(Agent)
          .findOneBy({ agencyId, ultravoxAgentId: remote.agent.agentId })
      : null;
    await this.dataSource.query(
      `INSERT INTO calls (agency_id, agent_id, direction, status, ultravox_call_id) VALUES ($1, $2, 'inbound', 'dialing', $3)
       ON CONFLICT (agency_id, ultravox_call_id) WHERE ultravox_call_id IS NOT NULL DO NOTHING`,
      [agencyId, agent?.id ?? null, remote.callId],
    );
    return calls.findOneByOrFail({ ultravoxCallId: remote.callId, agencyId });
  }

  private async apiKey(agencyId: string): Promise<string> {
    const apiKey = await this.secrets.ultravoxApiKey(agencyId);
    if (!apiKey) throw new Error('the agency removed its Ultravox key; the transcript cannot be read');
    return apiKey;
  }
}
