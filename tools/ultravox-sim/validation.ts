// Request-body checks. Each returns either the cleaned value or the `detail` of a 400.

import { FaultInput, Json, JsonObject, WEBHOOK_EVENTS, WebhookEvent } from './types';

export type Checked<T> = { ok: true; value: T } | { ok: false; detail: string };

const E164 = /^\+[1-9]\d{6,14}$/;
const DURATION = /^\d+(\.\d+)?s$/;
const PROVIDERS = ['twilio', 'telnyx', 'plivo'] as const;

export interface CreateCallInput {
  medium: JsonObject;
  to: string;
  metadata: Record<string, string>;
  templateContext: JsonObject;
  firstSpeakerSettings: JsonObject | undefined;
  maxDuration: string | undefined;
  recordingEnabled: boolean;
}

const fail = (detail: string): { ok: false; detail: string } => ({ ok: false, detail });

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Fields beyond the ones checked here are accepted and ignored: the real endpoint takes many more
 * (joinTimeout, initialMessages, ...) that Switchboard does not send.
 */
export function checkCreateCall(body: unknown): Checked<CreateCallInput> {
  if (!isObject(body)) return fail('Request body must be a JSON object.');
  const medium = checkMedium(body.medium);
  if (!medium.ok) return medium;
  const metadata = checkMetadata(body.metadata);
  if (!metadata.ok) return metadata;
  const { templateContext, firstSpeakerSettings, maxDuration, recordingEnabled } = body;
  if (templateContext !== undefined && !isObject(templateContext)) {
    return fail('templateContext: must be an object.');
  }
  if (firstSpeakerSettings !== undefined && !isObject(firstSpeakerSettings)) {
    return fail('firstSpeakerSettings: must be an object.');
  }
  if (maxDuration !== undefined && (typeof maxDuration !== 'string' || !DURATION.test(maxDuration))) {
    return fail('maxDuration: must be a duration string such as "600s".');
  }
  if (recordingEnabled !== undefined && typeof recordingEnabled !== 'boolean') {
    return fail('recordingEnabled: must be a boolean.');
  }
  return {
    ok: true,
    value: {
      medium: medium.value.medium,
      to: medium.value.to,
      metadata: metadata.value,
      templateContext: templateContext ?? {},
      firstSpeakerSettings,
      maxDuration,
      recordingEnabled: recordingEnabled ?? false,
    },
  };
}

function checkMedium(medium: Json | undefined): Checked<{ medium: JsonObject; to: string }> {
  if (!isObject(medium)) return fail('medium: an outgoing twilio, telnyx or plivo medium is required.');
  const keys = Object.keys(medium);
  const provider = PROVIDERS.find((name) => name === keys[0]);
  if (keys.length !== 1 || provider === undefined) {
    return fail('medium: exactly one of twilio, telnyx or plivo must be set.');
  }
  const settings = medium[provider];
  const outgoing = isObject(settings) ? settings.outgoing : undefined;
  if (!isObject(outgoing)) return fail(`medium.${provider}.outgoing: {to, from} is required.`);
  for (const field of ['to', 'from'] as const) {
    const number = outgoing[field];
    if (typeof number !== 'string' || !E164.test(number)) {
      return fail(
        `medium.${provider}.outgoing.${field}: must be an E.164 phone number such as +15551234567.`,
      );
    }
  }
  return { ok: true, value: { medium, to: outgoing.to as string } };
}

function checkMetadata(metadata: Json | undefined): Checked<Record<string, string>> {
  if (metadata === undefined) return { ok: true, value: {} };
  if (!isObject(metadata)) return fail('metadata: must be an object of string values.');
  const clean: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata)) {
    if (key.startsWith('ultravox.'))
      return fail(`metadata: key "${key}" uses the reserved "ultravox." prefix.`);
    if (typeof value !== 'string') return fail(`metadata.${key}: values must be strings.`);
    clean[key] = value;
  }
  return { ok: true, value: clean };
}

export interface WebhookInput {
  url?: string;
  events?: WebhookEvent[];
  secrets?: string[];
  agentId?: string | null;
}

/** `partial` (PATCH) lets url and events be omitted; create requires both. */
export function checkWebhook(body: unknown, partial: boolean): Checked<WebhookInput> {
  if (!isObject(body)) return fail('Request body must be a JSON object.');
  const input: WebhookInput = {};
  const { url, events, secrets, agentId } = body;
  if (url !== undefined || !partial) {
    if (typeof url !== 'string' || !isHttpUrl(url)) return fail('url: must be an http(s) URL.');
    if (url.length > 200) return fail('url: ensure this field has no more than 200 characters.');
    input.url = url;
  }
  if (events !== undefined || !partial) {
    if (!Array.isArray(events) || events.length === 0) return fail('events: must be a non-empty list.');
    const unknown = events.find((event) => !WEBHOOK_EVENTS.some((known) => known === event));
    if (unknown !== undefined) return fail(`events: "${String(unknown)}" is not a valid choice.`);
    input.events = events as WebhookEvent[];
  }
  if (secrets !== undefined) {
    if (!Array.isArray(secrets) || secrets.some((secret) => typeof secret !== 'string' || secret === '')) {
      return fail('secrets: must be a list of non-empty strings.');
    }
    input.secrets = secrets as string[];
  }
  if (agentId !== undefined) {
    if (agentId !== null && typeof agentId !== 'string') return fail('agentId: must be a string or null.');
    input.agentId = agentId;
  }
  return { ok: true, value: input };
}

function isHttpUrl(raw: string): boolean {
  try {
    const url = new URL(raw);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

export function checkFault(body: unknown): Checked<FaultInput> {
  if (!isObject(body)) return fail('Request body must be a JSON object.');
  const { method, path, status, headers, delayMs, times, keyPrefix } = body;
  if (keyPrefix !== undefined && typeof keyPrefix !== 'string') return fail('keyPrefix: must be a string.');
  if (typeof path !== 'string' || !path.startsWith('/')) return fail('path: must start with "/".');
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599) {
    return fail('status: must be an HTTP status code.');
  }
  if (method !== undefined && typeof method !== 'string') return fail('method: must be a string.');
  if (
    headers !== undefined &&
    (!isObject(headers) || Object.values(headers).some((v) => typeof v !== 'string'))
  ) {
    return fail('headers: must be an object of string values.');
  }
  if (delayMs !== undefined && (typeof delayMs !== 'number' || delayMs < 0)) {
    return fail('delayMs: must be a non-negative number.');
  }
  if (times !== undefined && (typeof times !== 'number' || !Number.isInteger(times) || times < 1)) {
    return fail('times: must be a positive integer.');
  }
  return {
    ok: true,
    value: {
      method,
      keyPrefix,
      path,
      status,
      body: body.body,
      headers: headers as Record<string, string> | undefined,
      delayMs,
      times,
    },
  };
}
