import SentimentAnalyzer from 'sentiment';
import { storableText } from '../common/http/storable-input';
import type { UltravoxCall, UltravoxMessage } from '../ultravox/ultravox.client';

/**
 * Pure translation of what Ultravox reports about a finished call (Call object + messages) into the
 * vocabulary of Switchboard's call.completed / call.failed payloads (CONTRACT §6). Ultravox adds and
 * removes fields between versions, so every input is read leniently: unknown fields are ignored,
 * missing or malformed ones become null, nothing here throws.
 */

/** The Ultravox shapes are defined once, by the client that speaks Ultravox. */
export type { UltravoxMessage } from '../ultravox/ultravox.client';
export type UltravoxCallView = UltravoxCall;

export interface TranscriptEntry {
  role: 'agent' | 'human';
  content: string;
  timestamp: string | null;
}

export type CallSentiment = 'positive' | 'neutral' | 'negative';

/**
 * Stable failure_reason values of call.failed (only calls that never connected fail):
 *
 * | endReason                  | sipDetails.terminationReason    | failure_reason     |
 * |----------------------------|---------------------------------|--------------------|
 * | unjoined                   | SIP_TERMINATION_BUSY            | busy               |
 * | unjoined                   | SIP_TERMINATION_INVALID_NUMBER  | invalid_number     |
 * | unjoined                   | anything else / absent          | no_answer          |
 * | connection_error           | (ignored)                       | connection_error   |
 * | system_error               | (ignored)                       | system_error       |
 * | anything else, null, new   | (ignored)                       | not_connected      |
 */
export type FailureReason =
  'busy' | 'invalid_number' | 'no_answer' | 'connection_error' | 'system_error' | 'not_connected';

export type CallEndClassification =
  { outcome: 'completed' } | { outcome: 'failed'; failureReason: FailureReason };

export type CampaignRetryOutcome = 'no_answer' | 'busy' | 'failed';

// Protobuf JSON durations ("12s", "1.200s", "-0.5s"); a bare number is read as seconds too.
const DURATION_PATTERN = /^(-?)(\d+(?:\.\d*)?|\.\d+)s?$/;

export function parseDuration(value: string | null | undefined): number | null {
  if (typeof value !== 'string') return null;
  const match = DURATION_PATTERN.exec(value.trim());
  if (!match) return null;
  const seconds = Number(match[2]);
  if (!Number.isFinite(seconds)) return null;
  return match[1] === '-' ? -seconds : seconds;
}

const ROLE_MAP: Readonly<Record<string, TranscriptEntry['role']>> = {
  MESSAGE_ROLE_AGENT: 'agent',
  MESSAGE_ROLE_USER: 'human',
};

/**
 * A turn's time of day is the call's `joined` plus the message's `wallClockTimespan.start` (the
 * wall-clock offset); without it, `timespan.start` (measured on the audio stream, which can run longer
 * than the call); without either (initial messages), `joined` itself. Kept between joined and
 * `endedAt` when known, so a drifting audio offset never dates a turn after the call ended. Null only
 * when joined is unknown.
 */
export function mapTranscript(
  messages: UltravoxMessage[],
  joinedAt: Date | null,
  endedAt: Date | null = null,
): TranscriptEntry[] {
  if (!Array.isArray(messages)) return [];
  const origin = joinedAt !== null && isValidDate(joinedAt) ? joinedAt.getTime() : null;
  const end = endedAt !== null && isValidDate(endedAt) && origin !== null ? endedAt.getTime() : null;
  const transcript: TranscriptEntry[] = [];
  for (const message of messages) {
    if (message === null || typeof message !== 'object') continue;
    const role = typeof message.role === 'string' ? ROLE_MAP[message.role] : undefined;
    const content = typeof message.text === 'string' ? storableText(message.text.trim()) : '';
    if (role === undefined || content === '') continue;
    transcript.push({ role, content, timestamp: timeOf(message, origin, end) });
  }
  return transcript;
}

function timeOf(message: UltravoxMessage, origin: number | null, end: number | null): string | null {
  if (origin === null) return null;
  const offset = startOf(message.wallClockTimespan) ?? startOf(message.timespan) ?? 0;
  let at = Math.max(origin, origin + Math.round(offset * 1000));
  if (end !== null && end >= origin) at = Math.min(at, end);
  const date = new Date(at);
  return isValidDate(date) ? date.toISOString() : null;
}

function startOf(span: UltravoxMessage['timespan']): number | null {
  if (span === null || typeof span !== 'object') return null;
  return parseDuration(span.start);
}

/**
 * AFINN-165 comparative score (sum of word scores / number of words) over the human turns only: the
 * agent is scripted to stay polite, and it is the customer's mood the agency wants to know.
 * Each turn is analysed separately (the package's negation looks at the previous word, which must not
 * cross a turn boundary), then scores and word counts are pooled.
 * Threshold ±0.05: one mildly loaded word (|score| 1-2) in a conversation of 40+ words stays neutral,
 * while any clearly positive or negative exchange (typically |comparative| ≥ 0.2) is caught.
 */
const SENTIMENT_THRESHOLD = 0.05;
const analyzer = new SentimentAnalyzer();

export function sentimentOf(transcript: Array<{ role: string; content: string }>): CallSentiment | null {
  if (!Array.isArray(transcript)) return null;
  let score = 0;
  let words = 0;
  for (const turn of transcript) {
    if (turn?.role !== 'human' || typeof turn.content !== 'string') continue;
    if (turn.content.trim() === '') continue;
    const result = analyzer.analyze(turn.content);
    score += result.score;
    words += result.tokens.length;
  }
  if (words === 0) return null;
  const comparative = score / words;
  if (comparative > SENTIMENT_THRESHOLD) return 'positive';
  if (comparative < -SENTIMENT_THRESHOLD) return 'negative';
  return 'neutral';
}

/**
 * Wall-clock talk time (ended − joined) is preferred: billedDuration only becomes final with
 * call.billed, later than call.ended. Both are rounded to whole seconds for duration_seconds.
 */
export function durationSeconds(call: UltravoxCallView): number | null {
  const joined = parseTime(call?.joined);
  const ended = parseTime(call?.ended);
  // A negative span means skewed clocks; the billed figure is then the better witness.
  if (joined !== null && ended !== null && ended >= joined) {
    return Math.round((ended - joined) / 1000);
  }
  const billed = parseDuration(call?.billedDuration);
  return billed === null ? null : Math.max(0, Math.round(billed));
}

/**
 * joined ⇒ completed, whatever the end reason: once media connected the customer was reached and a
 * transcript exists, and an agency would rather see that conversation than have a campaign dial the
 * same person again because the line dropped (connection_error) or Ultravox failed (system_error)
 * mid-call. Never joined ⇒ failed, with a reason from the table on FailureReason.
 */
export function classifyEnd(call: UltravoxCallView): CallEndClassification {
  if (hasJoined(call)) return { outcome: 'completed' };
  return { outcome: 'failed', failureReason: failureReasonOf(call) };
}

function failureReasonOf(call: UltravoxCallView): FailureReason {
  switch (normalise(call?.endReason)) {
    case 'unjoined':
      switch (normalise(call?.sipDetails?.terminationReason)) {
        case 'sip_termination_busy':
          return 'busy';
        case 'sip_termination_invalid_number':
          return 'invalid_number';
        default:
          return 'no_answer';
      }
    case 'connection_error':
      return 'connection_error';
    case 'system_error':
      return 'system_error';
    default:
      return 'not_connected';
  }
}

/** Campaign retry vocabulary: only no-answer and busy are worth a later retry of their own kind. */
export function campaignRetryOutcome(failureReason: string): CampaignRetryOutcome {
  if (failureReason === 'no_answer') return 'no_answer';
  if (failureReason === 'busy') return 'busy';
  return 'failed';
}

function hasJoined(call: UltravoxCallView): boolean {
  const joined = call?.joined;
  return typeof joined === 'string' && joined.trim() !== '';
}

function normalise(value: string | null | undefined): string {
  return typeof value === 'string' ? value.trim().toLowerCase() : '';
}

function parseTime(value: string | null | undefined): number | null {
  if (typeof value !== 'string' || value.trim() === '') return null;
  const time = Date.parse(value);
  return Number.isNaN(time) ? null : time;
}

function isValidDate(date: Date): boolean {
  return date instanceof Date && !Number.isNaN(date.getTime());
}

/** A text field of Ultravox's Call object as we store it: a string made storable, else null. */
export function ultravoxText(value: unknown): string | null {
  return typeof value === 'string' ? storableText(value) : null;
}
