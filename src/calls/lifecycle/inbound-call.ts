import { toE164 } from '../../common/phone';
import type { UltravoxCall } from '../../ultravox/ultravox.client';

/** The Ultravox agent a call ran on: `call.agent.agentId`, else the top-level `agentId`. */
export function ultravoxAgentOf(call: UltravoxCall): string | null {
  const id = call.agent?.agentId ?? call.agentId;
  return typeof id === 'string' && id !== '' ? id : null;
}

/**
 * The caller's number of a call Switchboard did not place, or null. The reference
 * (reference/ultravox-api.md) documents only the outgoing medium, `medium.<provider>.outgoing = {to,
 * from}`; for incoming calls the Call object's medium is not documented. Read here, leniently and by
 * analogy: `medium.<provider>.incoming.from` (twilio, telnyx, plivo, sip, … whichever key is present),
 * kept only when it is a phone number (E.164 after normalising). Anything else (a WebRTC console call,
 * a field of another shape) gives null: the call is still recorded, without a number.
 */
export function callerNumberOf(call: UltravoxCall): string | null {
  if (!isRecord(call.medium)) return null;
  for (const provider of Object.values(call.medium)) {
    const incoming = isRecord(provider) ? provider.incoming : undefined;
    const from = isRecord(incoming) ? incoming.from : undefined;
    if (typeof from === 'string') return toE164(from);
  }
  return null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
