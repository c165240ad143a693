import type { Readable } from 'node:stream';
import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { Agent, request } from 'undici';
import { guardedLookup, publicTargetRefusal } from '../common/http/public-target';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { Metrics, UltravoxAnswer } from '../metrics/metrics';
import { parseRetryAfter, UltravoxError, UltravoxFailure } from './ultravox.errors';

/** Ultravox keys look like `Zk3pQ9aB.<32 alphanumerics>` (reference/ultravox-api.md). */
export const ULTRAVOX_KEY_SHAPE = /^[A-Za-z0-9]{8}\.[A-Za-z0-9]{32}$/;

/** A 429/503 whose Retry-After is at most this long is waited out and retried here; longer ones surface. */
const MAX_INLINE_RETRY_WAIT_MS = 3_000;
const MAX_INLINE_RETRIES = 2;

export interface UltravoxWebhook {
  webhookId: string;
  url: string;
  events: string[];
  secrets?: string[];
  /** `normal` or `unhealthy` (reference/ultravox-api.md); read leniently. */
  status?: string | null;
  lastStatusChange?: string | null;
  /** Its shape is not documented: items are read leniently. */
  recentFailures?: unknown[] | null;
}

/** The part of GET /api/accounts/me Switchboard reads. */
export interface UltravoxAccount {
  accountId?: string;
  activeCalls?: number | null;
  allowedConcurrentCalls?: number | null;
}

/** A request that must answer quickly (a user waits): its own timeout, and no Retry-After waits. */
export interface QuickRequest {
  timeoutMs: number;
}

/** The part of POST /api/agents/{id}/calls Switchboard sends (reference/ultravox-api.md). */
export interface CreateCallRequest {
  templateContext: Record<string, string>;
  metadata: Record<string, string>;
  medium: Record<string, { outgoing: { to: string; from: string } }>;
  firstSpeakerSettings: { user: { fallback: { delay: string; text: string } } };
  recordingEnabled?: boolean;
  maxDuration?: string;
}

/** The Call object, leniently: fields come and go between Ultravox versions. */
export interface UltravoxCall {
  callId: string;
  created?: string | null;
  joined?: string | null;
  ended?: string | null;
  endReason?: string | null;
  billedDuration?: string | null;
  /** `BILLING_STATUS_PENDING` until call.billed, then final (src/calls/billing.ts). */
  billingStatus?: string | null;
  shortSummary?: string | null;
  summary?: string | null;
  metadata?: Record<string, string> | null;
  sipDetails?: { terminationReason?: string | null } | null;
  agent?: { agentId?: string; name?: string } | null;
  agentId?: string | null;
  /** The call's medium, e.g. `{twilio: {outgoing: {to, from}}}`; read leniently (see callerNumberOf). */
  medium?: unknown;
  /** A duration string such as "3600s". */
  maxDuration?: string | null;
}

/** An agent as `GET /api/agents/{id}` returns it, leniently: only what Switchboard reads. */
export interface UltravoxAgent {
  agentId?: string;
  name?: string;
  /** `contextSchema` is the JSON schema `templateContext` must adhere to (reference/ultravox-api.md, Agents). */
  callTemplate?: { contextSchema?: { properties?: unknown } | null } | null;
}

/** Offsets as duration strings ("12.300s"); both absent for initial messages. */
export interface UltravoxTimespan {
  start?: string;
  end?: string;
}

export interface UltravoxMessage {
  role: string;
  text?: string | null;
  medium?: string;
  callStageId?: string;
  callStageMessageIndex?: number;
  /** Offsets on the input audio stream: may drift from the wall clock. */
  timespan?: UltravoxTimespan | null;
  /** Wall-clock offsets from the call's `joined`: the base of a message's time of day. */
  wallClockTimespan?: UltravoxTimespan | null;
}

/** A call's recording as Ultravox (or the file host it redirects to) serves it. */
export type RecordingAnswer =
  | {
      kind: 'audio';
      /** 200 (the whole file) or 206 (the range asked for). */
      status: 200 | 206;
      contentType: string | null;
      contentLength: number | null;
      contentRange: string | null;
      /** Not read yet: the caller streams it, and destroys it to stop. */
      body: Readable;
    }
  | { kind: 'unsatisfiable'; contentRange: string | null };

/** Redirects followed to reach a recording's file (Ultravox answers one 302 to its storage). */
const MAX_RECORDING_REDIRECTS = 3;

interface Page<T> {
  next: string | null;
  results: T[];
}

/** Stops following `next` after this many pages (a runaway cursor must not loop forever). */
const MAX_PAGES = 200;

interface Call {
  /** Names the request in metrics (switchboard_ultravox_request_duration_seconds{operation}). */
  operation: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  apiKey: string;
  body?: unknown;
  quick?: QuickRequest;
}

/** The one place that speaks Ultravox's REST API. */
@Injectable()
export class UltravoxClient implements OnModuleDestroy {
  private readonly dispatcher = new Agent({ keepAliveTimeout: 10_000, connections: 64 });
  /**
   * For where Ultravox redirects a recording when that is not Ultravox itself (its storage): public
   * addresses only, checked again at connect time, as for webhooks.
   */
  private readonly publicOnly = new Agent({
    keepAliveTimeout: 10_000,
    connections: 64,
    connect: { lookup: guardedLookup },
  });

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

  async onModuleDestroy(): Promise<void> {
    await Promise.all([this.dispatcher.close(), this.publicOnly.close()]);
  }

  /** Resolves when Ultravox accepts the key; throws UltravoxError('rejected_key' | 'unavailable' | ...) otherwise. */
  async validateKey(apiKey: string): Promise<void> {
    if (!ULTRAVOX_KEY_SHAPE.test(apiKey)) {
      throw new UltravoxError('rejected_key', 'The key does not have the shape of an Ultravox API key');
    }
    await this.send({ operation: 'validate_key', method: 'GET', path: '/api/calls?limit=1', apiKey });
  }

  createWebhook(apiKey: string, webhook: Omit<UltravoxWebhook, 'webhookId'>): Promise<UltravoxWebhook> {
    return this.send<UltravoxWebhook>({
      operation: 'create_webhook',
      method: 'POST',
      path: '/api/webhooks',
      apiKey,
      body: webhook,
    });
  }

  updateWebhook(
    apiKey: string,
    webhookId: string,
    webhook: Omit<UltravoxWebhook, 'webhookId'>,
  ): Promise<UltravoxWebhook> {
    const path = `/api/webhooks/${encodeURIComponent(webhookId)}`;
    return this.send<UltravoxWebhook>({
      operation: 'update_webhook',
      method: 'PATCH',
      path,
      apiKey,
      body: webhook,
    });
  }

  /** One webhook; UltravoxError 'not_found' once it was deleted (e.g. in the Ultravox console). */
  getWebhook(apiKey: string, webhookId: string, quick?: QuickRequest): Promise<UltravoxWebhook> {
    return this.send<UltravoxWebhook>({
      operation: 'get_webhook',
      method: 'GET',
      path: `/api/webhooks/${encodeURIComponent(webhookId)}`,
      apiKey,
      quick,
    });
  }

  /** The account behind the key: its concurrent-call limit among others. */
  getAccount(apiKey: string): Promise<UltravoxAccount> {
    return this.send<UltravoxAccount>({
      operation: 'get_account',
      method: 'GET',
      path: '/api/accounts/me',
      apiKey,
    });
  }

  createCall(apiKey: string, agentId: string, body: CreateCallRequest): Promise<UltravoxCall> {
    return this.send<UltravoxCall>({
      operation: 'create_call',
      method: 'POST',
      path: `/api/agents/${encodeURIComponent(agentId)}/calls`,
      apiKey,
      body,
    });
  }

  /** The agent; throws UltravoxError('not_found') when Ultravox does not know it. */
  getAgent(apiKey: string, agentId: string): Promise<UltravoxAgent> {
    return this.send<UltravoxAgent>({
      operation: 'get_agent',
      method: 'GET',
      path: `/api/agents/${encodeURIComponent(agentId)}`,
      apiKey,
    });
  }

  getCall(apiKey: string, callId: string): Promise<UltravoxCall> {
    return this.send<UltravoxCall>({
      operation: 'get_call',
      method: 'GET',
      path: `/api/calls/${encodeURIComponent(callId)}`,
      apiKey,
    });
  }

  /**
   * Every message of every call stage (`mode=in_call`; the default, `last_stage`, cuts the transcript
   * of an agent that changes stage), following `next` through all pages.
   */
  listMessages(apiKey: string, callId: string): Promise<UltravoxMessage[]> {
    return this.all<UltravoxMessage>(
      'list_messages',
      apiKey,
      `/api/calls/${encodeURIComponent(callId)}/messages?mode=in_call&pageSize=200`,
    );
  }

  /** Calls whose metadata has `key` = `value` (how a call whose creation timed out is found again). */
  findCallsByMetadata(apiKey: string, key: string, value: string): Promise<UltravoxCall[]> {
    const query = new URLSearchParams({ [`metadata.${key}`]: value, pageSize: '10' });
    return this.all<UltravoxCall>('find_calls', apiKey, `/api/calls?${query.toString()}`);
  }

  /**
   * Opens the call's recording (`GET /api/calls/{id}/recording`: 200 audio, or 302 to the file),
   * passing `range` through. A redirect is followed without the X-API-Key: the key goes to Ultravox
   * only. The body is returned unread, to be streamed; `signal` aborts the request and the body.
   * Headers must come within ULTRAVOX_TIMEOUT_MS, and the body may not stall longer than that.
   * Throws UltravoxError ('not_found' when there is no recording).
   */
  async openRecording(
    apiKey: string,
    callId: string,
    range: string | null,
    signal: AbortSignal,
  ): Promise<RecordingAnswer> {
    const { baseUrl } = this.config.ultravox;
    let url = new URL(`${baseUrl}/api/calls/${encodeURIComponent(callId)}/recording`);
    const { origin } = url;
    let headers: Record<string, string> = { 'x-api-key': apiKey, accept: 'audio/*' };
    if (range) headers.range = range;
    const started = performance.now();
    let answer: UltravoxAnswer = 'unreachable';
    let response: Awaited<ReturnType<typeof request>>;
    try {
      response = await this.fetchRecording(url, headers, signal, this.dispatcher);
      answer = response.statusCode;
    } finally {
      this.metrics.ultravoxRequest('get_recording', answer, performance.now() - started);
    }
    for (let hop = 0; isRedirect(response.statusCode); hop++) {
      const location = response.headers.location;
      await response.body.dump();
      if (typeof location !== 'string' || hop >= MAX_RECORDING_REDIRECTS) {
        throw new UltravoxError(
          'unexpected',
          `Ultravox answered ${response.statusCode} without a usable Location`,
        );
      }
      url = new URL(location, url);
      // Ultravox itself (the configured base URL) is trusted; anywhere else must be a public https URL
      // (a redirect is no way into the private network Switchboard runs in).
      const offsite = url.origin !== origin;
      const refusal = offsite ? publicTargetRefusal(url) : null;
      if (refusal || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
        throw new UltravoxError(
          'unexpected',
          `Ultravox redirected the recording to a URL Switchboard does not follow (${refusal ?? url.protocol})`,
        );
      }
      headers = { accept: 'audio/*', ...(range ? { range } : {}) };
      response = await this.fetchRecording(url, headers, signal, offsite ? this.publicOnly : this.dispatcher);
    }
    const { statusCode } = response;
    const header = (name: string): string | null => {
      const value = response.headers[name];
      return typeof value === 'string' ? value : null;
    };
    if (statusCode === 200 || statusCode === 206) {
      const length = Number(header('content-length'));
      return {
        kind: 'audio',
        status: statusCode,
        contentType: header('content-type'),
        contentLength:
          Number.isSafeInteger(length) && length >= 0 && header('content-length') !== null ? length : null,
        contentRange: statusCode === 206 ? header('content-range') : null,
        body: response.body,
      };
    }
    const text = await response.body.text().catch(() => '');
    if (statusCode === 416) return { kind: 'unsatisfiable', contentRange: header('content-range') };
    throw answerError(statusCode, response.headers['retry-after'], text, ' for the recording');
  }

  private async fetchRecording(
    url: URL,
    headers: Record<string, string>,
    signal: AbortSignal,
    dispatcher: Agent,
  ): Promise<Awaited<ReturnType<typeof request>>> {
    const { timeoutMs } = this.config.ultravox;
    try {
      return await request(url, {
        method: 'GET',
        dispatcher,
        headers,
        signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
    } catch (err) {
      const name = (err as Error).name;
      if (name === 'HeadersTimeoutError' || (err as { code?: string }).code === 'UND_ERR_HEADERS_TIMEOUT') {
        throw new UltravoxError('timeout', `Ultravox did not answer within ${timeoutMs} ms`);
      }
      if (signal.aborted) throw err;
      throw new UltravoxError(
        'unavailable',
        `The recording could not be fetched (${(err as Error).message})`,
      );
    }
  }

  private async all<T>(operation: string, apiKey: string, firstPath: string): Promise<T[]> {
    const results: T[] = [];
    let path: string | null = firstPath;
    for (let page = 0; path && page < MAX_PAGES; page++) {
      const body: Page<T> = await this.send<Page<T>>({ operation, method: 'GET', path, apiKey });
      results.push(...(body.results ?? []));
      path = body.next ? this.nextPath(firstPath, body.next) : null;
    }
    return results;
  }

  /** `next` is a full URL; keep our base and path, take its cursor. */
  private nextPath(firstPath: string, next: string): string | null {
    const cursor = new URL(next, this.config.ultravox.baseUrl).searchParams.get('cursor');
    if (!cursor) return null;
    const url = new URL(firstPath, 'http://x');
    url.searchParams.set('cursor', cursor);
    return `${url.pathname}${url.search}`;
  }

  async deleteWebhook(apiKey: string, webhookId: string): Promise<void> {
    await this.send<void>({
      operation: 'delete_webhook',
      method: 'DELETE',
      path: `/api/webhooks/${encodeURIComponent(webhookId)}`,
      apiKey,
    });
  }

  private async send<T>(call: Call, attempt = 0): Promise<T> {
    try {
      return await this.once<T>(call);
    } catch (err) {
      const wait = err instanceof UltravoxError && !call.quick ? err.retryAfterMs : null;
      if (wait !== null && wait <= MAX_INLINE_RETRY_WAIT_MS && attempt < MAX_INLINE_RETRIES) {
        await new Promise((resolve) => setTimeout(resolve, wait));
        return this.send<T>(call, attempt + 1);
      }
      throw err;
    }
  }

  /** One HTTP request, timed in metrics by its operation and answer. */
  private async once<T>(call: Call): Promise<T> {
    const started = performance.now();
    let answer: UltravoxAnswer = 'unreachable';
    try {
      return await this.exchange<T>(call, (status) => (answer = status));
    } finally {
      this.metrics.ultravoxRequest(call.operation, answer, performance.now() - started);
    }
  }

  private async exchange<T>(call: Call, answered: (status: UltravoxAnswer) => void): Promise<T> {
    const { baseUrl } = this.config.ultravox;
    const timeoutMs = call.quick?.timeoutMs ?? this.config.ultravox.timeoutMs;
    let response: Awaited<ReturnType<typeof request>>;
    try {
      response = await request(`${baseUrl}${call.path}`, {
        method: call.method,
        dispatcher: this.dispatcher,
        headers: {
          'x-api-key': call.apiKey,
          accept: 'application/json',
          ...(call.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: call.body === undefined ? undefined : JSON.stringify(call.body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const name = (err as Error).name;
      if (name === 'TimeoutError' || name === 'AbortError') {
        answered('timeout');
        throw new UltravoxError('timeout', `Ultravox did not answer within ${timeoutMs} ms`);
      }
      throw new UltravoxError('unavailable', `Ultravox could not be reached (${(err as Error).message})`);
    }
    const { statusCode } = response;
    answered(statusCode);
    const text = await response.body.text();
    if (statusCode >= 200 && statusCode < 300) return (text ? JSON.parse(text) : undefined) as T;
    throw answerError(statusCode, response.headers['retry-after'], text);
  }
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

/** Ultravox's answer other than 2xx as an error, with its Retry-After kept for a 429 or 503. */
function answerError(
  status: number,
  retryAfter: string | string[] | undefined,
  text: string,
  about = '',
): UltravoxError {
  const failure = failureOf(status);
  const retryAfterMs = failure === 'rate_limited' || status === 503 ? parseRetryAfter(retryAfter) : null;
  return new UltravoxError(
    failure,
    `Ultravox answered ${status}${about}: ${detailOf(text)}`,
    status,
    retryAfterMs,
  );
}

function failureOf(status: number): UltravoxFailure {
  if (status === 401 || status === 403) return 'rejected_key';
  if (status === 404) return 'not_found';
  if (status === 400 || status === 422) return 'bad_request';
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'unavailable';
  return 'unexpected';
}

function detailOf(text: string): string {
  try {
    const detail = (JSON.parse(text) as { detail?: unknown }).detail;
    if (detail !== undefined) return typeof detail === 'string' ? detail : JSON.stringify(detail);
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.slice(0, 200) || '(empty body)';
}
