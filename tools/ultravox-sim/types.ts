// Shapes shared by the simulator's modules. API-facing types mirror reference/ultravox-api.md.

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export type WebhookEvent = 'call.started' | 'call.joined' | 'call.ended' | 'call.billed';
export const WEBHOOK_EVENTS: readonly WebhookEvent[] = [
  'call.started',
  'call.joined',
  'call.ended',
  'call.billed',
];

export type Scenario =
  | 'answered'
  | 'negative'
  | 'long'
  | 'stages'
  | 'late_summary'
  | 'no_summary'
  | 'no_answer'
  | 'busy'
  | 'connection_error';

export type EndReason =
  'unjoined' | 'hangup' | 'agent_hangup' | 'timeout' | 'connection_error' | 'system_error';

export type MessageRole =
  'MESSAGE_ROLE_AGENT' | 'MESSAGE_ROLE_USER' | 'MESSAGE_ROLE_TOOL_CALL' | 'MESSAGE_ROLE_TOOL_RESULT';

/** `{start, end}` offsets as duration strings ("12.300s"). */
export interface Timespan {
  start: string;
  end: string;
}

export interface UltravoxMessage {
  role: MessageRole;
  text: string;
  medium: 'MESSAGE_MEDIUM_VOICE';
  callStageId: string;
  /** Position within its call stage (each stage counts from 0). */
  callStageMessageIndex: number;
  toolName?: string;
  invocationId?: string;
  /** Offsets on the input audio stream: derived from word counts, they run longer than the wall clock. */
  timespan?: Timespan;
  /** Wall-clock offsets from `joined`, written as the message is "spoken". */
  wallClockTimespan?: Timespan;
}

/** A call stage as `GET /api/calls/{id}/stages` lists it. */
export interface CallStage {
  callId: string;
  callStageId: string;
  created: string;
}

export interface UltravoxCall {
  callId: string;
  created: string;
  joined: string | null;
  ended: string | null;
  endReason: EndReason | null;
  billedDuration: string | null;
  billingStatus: string;
  shortSummary: string | null;
  summary: string | null;
  metadata: Record<string, string>;
  medium: JsonObject;
  templateContext: JsonObject;
  firstSpeakerSettings: JsonObject;
  agentId: string;
  agent: { agentId: string; name: string };
  maxDuration: string;
  joinTimeout: string;
  recordingEnabled: boolean;
  sipDetails: { terminationReason: string } | null;
}

export type CallPhase = 'created' | 'joined' | 'ended' | 'billed';

/** A call plus what the simulator needs to play it out. */
export interface SimCall {
  seq: number;
  accountId: string;
  scenario: Scenario;
  phase: CallPhase;
  call: UltravoxCall;
  /** The whole scripted transcript; only the first `spoken` entries are visible through the API. */
  script: UltravoxMessage[];
  /** Its stages so far: the first from creation, each next one once its first message is spoken. */
  stages: CallStage[];
  spoken: number;
  /** Exact bytes sent per event, so a resend is a true duplicate. */
  sentBodies: Map<WebhookEvent, string>;
  /** Set by `forget`: the call is gone from the API and sends no more webhooks. */
  forgotten: boolean;
}

/** Webhooks lost on purpose: the next `remaining` first sends of `event` (for `callId`, or any call). */
export interface WebhookDrop {
  id: number;
  event: WebhookEvent;
  callId: string | null;
  remaining: number;
}

export interface SimWebhook {
  webhookId: string;
  url: string;
  events: WebhookEvent[];
  secrets: string[];
  agentId: string | null;
  created: string;
  /** `unhealthy` after UNHEALTHY_AFTER_FAILURES failed attempts in a row; a success makes it `normal` again. */
  status: 'normal' | 'unhealthy';
  lastStatusChange: string;
  /** The latest failed attempts, newest last (at most RECENT_FAILURES_KEPT). Shape: a simulator convention. */
  recentFailures: WebhookFailure[];
}

/** One failed delivery attempt as GET /api/webhooks/{id} shows it (the real shape is not documented). */
export interface WebhookFailure {
  timestamp: string;
  error: string;
}

/** An agent made known through `POST /_sim/agents` (others exist implicitly; see the README). */
export interface SimAgent {
  agentId: string;
  name: string;
  created: string;
  /** `contextSchema` null: the agent declares no schema, so any templateContext is accepted. */
  callTemplate: { contextSchema: JsonObject | null };
}

export interface SimAccount {
  accountId: string;
  /** First 8 characters of the API key: enough to tell accounts apart in control output. */
  keyPrefix: string;
  calls: Map<string, SimCall>;
  webhooks: Map<string, SimWebhook>;
  agents: Map<string, SimAgent>;
  maxConcurrentLive: number;
  /** Set through the control API; null: the simulator's `maxConcurrentCalls`. */
  allowedConcurrentCalls: number | null;
}

export interface DeliveryAttempt {
  event: WebhookEvent;
  callId: string;
  webhookId: string;
  url: string;
  attempt: number;
  /** HTTP status, or null when the connection failed or timed out. */
  status: number | null;
  error: string | null;
  resend: boolean;
  at: string;
}

export interface FaultInput {
  method?: string;
  /** Only requests whose API key starts with this (one account among several). */
  keyPrefix?: string;
  /** Exact path, or a prefix ending in `*`. */
  path: string;
  status: number;
  body?: Json;
  headers?: Record<string, string>;
  delayMs?: number;
  times?: number;
}

export interface Fault {
  id: number;
  method: string | null;
  keyPrefix: string | null;
  path: string;
  status: number;
  body: Json | undefined;
  headers: Record<string, string>;
  delayMs: number;
  remaining: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  headers: Record<string, string>;
  body: Json | null;
  at: string;
}

export interface SimTimings {
  /** Creation → media connected (also when busy / connection_error are decided). */
  joinDelayMs: number;
  /** Between two transcript messages. */
  turnDelayMs: number;
  /** Last message → call ended. */
  endDelayMs: number;
  /** Call ended → billing final. */
  billedDelayMs: number;
  /** How long a no-answer call rings before it ends unjoined. */
  joinTimeoutMs: number;
  /** Call ended → summary written, in the late_summary scenario. */
  summaryDelayMs: number;
  /** First webhook retry delay; doubles per retry. */
  webhookRetryDelayMs: number;
}

export interface SimOptions {
  port: number;
  host: string;
  maxConcurrentCalls: number;
  /** Multiplies every default timing: 0.01 plays a whole call out in tens of milliseconds. */
  timeScale: number;
  /** Explicit timings win over timeScale. */
  timings: Partial<SimTimings>;
  webhookRetries: number;
  webhookTimeoutMs: number;
  messagesPageSize: number;
  /** Bytes of audio in every recording; null: as long as the call (16,000 bytes a second). */
  recordingBytes: number | null;
  logger: boolean;
}
