/**
 * Distinct Ultravox webhooks for bench:ingest: request `seq` is event `seq % 4` of call `seq / 4`, so every
 * request is a distinct (callId, event). Bodies have the shape and size of what Ultravox (and the
 * simulator) sends — `{event, call}` with the whole call object — and are signed at send time exactly as
 * Ultravox signs them (reference/webhook-signing.md), with a fresh timestamp.
 */
import { createHash } from 'node:crypto';
import { ultravoxSignatureHeader } from '../../tools/ultravox-sim/signing';
import type { UltravoxCall, WebhookEvent } from '../../tools/ultravox-sim/types';
import type { LoadRequest } from '../common/load';

export const BENCH_EVENTS: readonly WebhookEvent[] = [
  'call.started',
  'call.joined',
  'call.ended',
  'call.billed',
];

/** A stable uuid-shaped id per call index, so a run can be checked against what was stored. */
export function benchCallId(runTag: string, callIndex: number): string {
  const hex = createHash('sha256').update(`${runTag}:${callIndex}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export function eventBody(
  runTag: string,
  seq: number,
  agentId: string,
): { event: WebhookEvent; body: string } {
  const event = BENCH_EVENTS[seq % BENCH_EVENTS.length];
  const created = new Date(Date.now() - 60_000).toISOString();
  const joined = event === 'call.started' ? null : new Date(Date.now() - 55_000).toISOString();
  const ended = event === 'call.ended' || event === 'call.billed' ? new Date().toISOString() : null;
  const call: UltravoxCall = {
    callId: benchCallId(runTag, Math.floor(seq / BENCH_EVENTS.length)),
    created,
    joined,
    ended,
    endReason: ended ? 'hangup' : null,
    billedDuration: event === 'call.billed' ? '55s' : null,
    billingStatus: event === 'call.billed' ? 'BILLING_STATUS_BILLED' : 'BILLING_STATUS_PENDING',
    shortSummary: ended ? 'The customer confirmed Tuesday at 3 pm.' : null,
    summary: ended
      ? 'The agent greeted the customer, looked up the appointment and confirmed Tuesday at 3 pm; the customer thanked the agent.'
      : null,
    metadata: { switchboard_call_id: benchCallId(`${runTag}:sb`, Math.floor(seq / BENCH_EVENTS.length)) },
    medium: { twilio: { outgoing: { to: '+15551234567', from: '+15550001111' } } },
    templateContext: { name: 'Ada Lovelace', email: 'ada@example.com', phone: '+15551234567' },
    firstSpeakerSettings: { user: {} },
    agentId,
    agent: { agentId, name: 'Bench Agent' },
    maxDuration: '3600s',
    joinTimeout: '30s',
    recordingEnabled: false,
    sipDetails: null,
  };
  return { event, body: JSON.stringify({ event, call }) };
}

export function ingestRequest(path: string, signingSecret: string, runTag: string, agentId: string) {
  return (seq: number): LoadRequest => {
    const { body } = eventBody(runTag, seq, agentId);
    const timestamp = new Date().toISOString();
    return {
      path,
      headers: {
        'content-type': 'application/json',
        'x-ultravox-webhook-timestamp': timestamp,
        'x-ultravox-webhook-signature': ultravoxSignatureHeader([signingSecret], body, timestamp),
      },
      body,
    };
  };
}
