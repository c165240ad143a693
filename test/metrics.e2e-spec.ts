import request from 'supertest';
import { UltravoxSim } from '../tools/ultravox-sim/server';
import { callingAgency, CallingAgency, subscribe, trigger } from './support/call-fixtures';
import { startCallingStack, stopCallingStack } from './support/calling-stack';
import { errorBody } from './support/errors';
import { Receiver } from './support/receiver';
import { freePort, spawnWorker } from './support/spawn';
import { startTestApp, TestApp } from './support/test-app';
import { waitFor } from './support/wait';

const TOKEN = 'metrics-token-for-the-e2e-suite';
const PROMETHEUS_TEXT = /^text\/plain; version=0\.0\.4/;

type Labels = Record<string, string>;

/** The samples of one family in Prometheus text whose labels include `labels`. */
function samples(text: string, name: string, labels: Labels = {}): number[] {
  const found: number[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const own: Labels = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) own[key] = value;
    if (Object.entries(labels).every(([key, value]) => own[key] === value)) found.push(Number(match[3]));
  }
  return found;
}

const total = (text: string, name: string, labels: Labels = {}) =>
  samples(text, name, labels).reduce((sum, value) => sum + value, 0);

async function scrape(base: string, token: string | null = TOKEN): Promise<string> {
  const req = request(base).get('/metrics');
  if (token) req.set('Authorization', `Bearer ${token}`);
  const res = await req.expect(200);
  expect(res.headers['content-type']).toMatch(PROMETHEUS_TEXT);
  return res.text;
}

describe('GET /metrics with METRICS_TOKEN set (CONTRACT §8)', () => {
  let sim: UltravoxSim;
  let t: TestApp;
  let receiver: Receiver;
  let agency: CallingAgency;

  beforeAll(async () => {
    ({ sim, t, receiver } = await startCallingStack({ timeScale: 0.02 }, { METRICS_TOKEN: TOKEN }));
    agency = await callingAgency(t);
    await subscribe(t, agency, `${receiver.url}/calls`);
  });
  afterAll(() => stopCallingStack({ sim, t, receiver }));

  it.each([
    ['no Authorization header', undefined],
    ['another bearer token', 'Bearer not-the-metrics-token-at-all'],
    ['the token without the Bearer scheme', TOKEN],
    ["an agency's API key", 'agency'],
  ])('answers 401 in the contract shape to %s', async (_, authorization) => {
    const req = request(t.url).get('/metrics');
    if (authorization === 'agency') req.set('Authorization', `Bearer ${agency.apiKey}`);
    else if (authorization) req.set('Authorization', authorization);
    const res = await req.expect(401);
    expect(res.body).toEqual(errorBody('unauthorized'));
    expect(res.text).not.toContain('switchboard_');
  });

  it('after a call and its deliveries, shows every metric family with what happened', async () => {
    const placed = await trigger(t, agency.apiKey, { phone: '+15551234567' }).expect(200);
    const callId = placed.body.call_id as string;
    await waitFor(
      () => receiver.events<{ event: string }>().some((e) => e.event === 'call.completed'),
      20_000,
      'call.completed at the receiver',
    );
    await request(t.url)
      .get(`/api/v1/calls/${callId}`)
      .set('Authorization', `Bearer ${agency.apiKey}`)
      .expect(200);

    // The delivery of call.completed is counted once its answer is in: wait for that, not for a time.
    const text = await waitFor(async () => {
      const body = await scrape(t.url);
      const settled =
        total(body, 'switchboard_webhook_delivery_attempts_total', { outcome: 'succeeded' }) >= 2 &&
        total(body, 'switchboard_ultravox_event_lag_seconds_count') >= 3 &&
        total(body, 'switchboard_calls', { status: 'completed' }) === 1;
      return settled ? body : null;
    }, 20_000);

    // HTTP: by route pattern and status, never by the URL (no call id in any label).
    const http = 'switchboard_http_request_duration_seconds_count';
    expect(total(text, http, { method: 'POST', route: '/api/trigger-call', status: '200' })).toBe(1);
    expect(total(text, http, { method: 'GET', route: '/api/v1/calls/:id', status: '200' })).toBe(1);
    expect(
      samples(text, 'switchboard_http_request_duration_seconds_bucket', { route: '/api/trigger-call' }),
    ).not.toHaveLength(0);
    expect(text).not.toContain(callId);

    // Queues: every queue in every state, read from Redis.
    for (const queue of ['webhook-delivery', 'call-dial', 'call-events']) {
      for (const state of ['waiting', 'active', 'delayed', 'failed']) {
        expect({ queue, state, series: samples(text, 'switchboard_queue_jobs', { queue, state }) }).toEqual({
          queue,
          state,
          series: [expect.any(Number)],
        });
      }
    }

    // Deliveries: call.started and call.completed were answered 204 by the receiver.
    expect(
      total(text, 'switchboard_webhook_delivery_attempt_duration_seconds_count', { outcome: 'succeeded' }),
    ).toBeGreaterThanOrEqual(2);
    expect(total(text, 'switchboard_webhook_delivery_attempts_total', { outcome: 'no_answer' })).toBe(0);

    // Endpoints by state; calls by status and by terminal outcome.
    expect(samples(text, 'switchboard_webhook_endpoints', { state: 'healthy' })).toEqual([1]);
    expect(samples(text, 'switchboard_calls', { status: 'completed' })).toEqual([1]);
    expect(samples(text, 'switchboard_calls_ended_total', { status: 'completed', reason: 'none' })).toEqual([
      1,
    ]);

    // Ultravox: the key check, the webhook registration, the call and the transcript reads.
    const ultravox = 'switchboard_ultravox_request_duration_seconds_count';
    expect(total(text, ultravox, { operation: 'validate_key', status: '200' })).toBeGreaterThanOrEqual(1);
    expect(total(text, ultravox, { operation: 'create_webhook', status: '201' })).toBeGreaterThanOrEqual(1);
    expect(total(text, ultravox, { operation: 'create_call', status: '201' })).toBe(1);
    expect(total(text, ultravox, { operation: 'list_messages', status: '200' })).toBeGreaterThanOrEqual(1);

    // Ingest to processed: the call's Ultravox webhooks (started, joined, ended at least).
    expect(total(text, 'switchboard_ultravox_event_lag_seconds_count')).toBeGreaterThanOrEqual(3);

    // Process metrics.
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect({ name, series: samples(text, name) }).toEqual({ name, series: [expect.any(Number)] });
    }
  });

  it('a worker-only process serves /metrics and /health on METRICS_PORT, and nothing else', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const worker = spawnWorker(t.env, { HOST: '127.0.0.1', METRICS_PORT: String(port), LOG_LEVEL: 'warn' });
    try {
      const health = await waitFor(
        async () => {
          if (!worker.running()) return 'exited';
          const res = await fetch(`${base}/health`).catch(() => null);
          return res?.status === 200 ? ((await res.json()) as object) : null;
        },
        30_000,
        'the worker to answer /health',
      );
      expect(health).toMatchObject({
        status: 'ok',
        details: { postgres: { status: 'up' }, redis: { status: 'up' } },
      });

      const denied = await request(base).get('/metrics').expect(401);
      expect(denied.body).toEqual(errorBody('unauthorized'));
      const text = await scrape(base);
      expect(samples(text, 'switchboard_queue_jobs', { queue: 'call-dial', state: 'waiting' })).toEqual([
        expect.any(Number),
      ]);
      expect(samples(text, 'process_cpu_seconds_total')).toEqual([expect.any(Number)]);

      const api = await request(base).get('/api/v1/calls').set('Authorization', `Bearer ${agency.apiKey}`);
      expect(api.status).toBe(404);
    } finally {
      const exit = await worker.stop();
      expect(exit.timedOut).toBe(false);
    }
  });
});

describe('GET /metrics without METRICS_TOKEN', () => {
  let t: TestApp;

  beforeAll(async () => {
    // Blank is unset; the variable is blanked because the spec above set it in this file's environment.
    t = await startTestApp({ METRICS_TOKEN: '' });
  });
  afterAll(() => t.close());

  it('answers anyone, with the HTTP histogram of what was asked', async () => {
    await request(t.url).get('/health').expect(200);
    await request(t.url).get('/no/such/route').expect(404);
    const text = await scrape(t.url, null);
    const http = 'switchboard_http_request_duration_seconds_count';
    expect(total(text, http, { method: 'GET', route: '/health', status: '200' })).toBe(1);
    expect(total(text, http, { method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
    expect(text).not.toContain('/no/such/route');
  });
});
