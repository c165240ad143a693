import { Call } from './call.entity';

/**
 * The call fields of `call.started`, `call.completed` and `call.failed` (CONTRACT §6): every field
 * always present, null where unknown. The outbox puts `event`, `event_id` and `timestamp` first.
 */
export function callEventFields(
  call: Call,
  agentName: string | null,
  recordingUrl: string | null,
): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    call_id: call.id,
    agent_id: call.agentId,
    agent_name: agentName,
    direction: call.direction,
    phone_number: call.phoneNumber,
    name: call.name,
    email: call.email,
    duration_seconds: call.durationSeconds,
    started_at: call.startedAt?.toISOString() ?? null,
    ended_at: call.endedAt?.toISOString() ?? null,
    sentiment: call.sentiment,
    summary: call.summary,
    transcript: call.transcript ?? [],
    metadata: call.metadata ?? {},
    campaign_id: call.campaignId,
    recording_url: recordingUrl,
  };
  if (call.status === 'failed') fields.failure_reason = call.failureReason;
  return fields;
}
