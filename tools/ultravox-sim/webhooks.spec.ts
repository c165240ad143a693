import { createHmac, timingSafeEqual } from 'node:crypto';
import { Page } from './pagination';
import { SimWebhook, startUltravoxSim, UltravoxCall, UltravoxSim } from './server';
import { api, apiKey, outgoingCall, ReceivedWebhook, Receiver, startReceiver, waitFor } from './spec-support';

interface WebhookBody {
  event: string;
  call: UltravoxCall;
}

/** The receiver's side of reference/webhook-signing.md, written independently of the simulator's code. */
function verifiedBody(delivery: ReceivedWebhook, secret: string): WebhookBody {
  const timestamp = String(delivery.headers['x-ultravox-webhook-timestamp']);
  const expected = createHmac('sha256', secret).update(delivery.rawBody).update(timestamp).digest();
  const signatures = String(delivery.headers['x-ultravox-webhook-signature']).split(',');
  const valid = signatures.some((hex) => {
    const given = Buffer.from(hex, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!valid) throw new Error(`bad signature on ${delivery.rawBody}`);
  expect(delivery.headers['content-type']).toBe('application/json');
  expect(Math.abs(Date.now() - Date.parse(timestamp))).toBeLessThan(60_000);
  expect(timestamp).toMatch(/(Z|[+-]\d\d:\d\d)$/);
  return JSON.parse(delivery.rawBody) as WebhookBody;
}

const EVENT_ORDER = ['call.started', 'call.joined', 'call.ended', 'call.billed'];

/** Deliveries are concurrent HTTP requests, so arrival order is not guaranteed (nor is it by Ultravox). */
function inEventOrder(bodies: WebhookBody[]): WebhookBody[] {
  return [...bodies].sort((a, b) => EVENT_ORDER.indexOf(a.event) - EVENT_ORDER.indexOf(b.event));
}

describe('Ultravox simulator: webhooks', () => {
  let sim: UltravoxSim;
  let receiver: Receiver;
  const key = apiKey('hooksAAA');

  beforeAll(async () => {
    sim = await startUltravoxSim({ timeScale: 0.005 });
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await sim.close();
    await receiver.close();
  });
  beforeEach(() => {
    sim.reset();
    receiver.received.length = 0;
    receiver.statuses.length = 0;
  });

  const register = async (body: Record<string, unknown>) =>
    api<SimWebhook & { detail?: string }>(`${sim.url}/api/webhooks`, { method: 'POST', key, body });

  const placeCall = async (to: string, agentId = 'agent-1'): Promise<string> => {
    const created = await api<UltravoxCall>(`${sim.url}/api/agents/${agentId}/calls`, {
      method: 'POST',
      key,
      body: outgoingCall(to, { templateContext: { customerName: 'Ana' } }),
    });
    return created.body.callId;
  };

  const eventsReceived = (secret: string): WebhookBody[] =>
    receiver.received.map((delivery) => verifiedBody(delivery, secret));

  it('registers, reads, updates, lists and deletes a webhook; a missing secret is generated', async () => {
    const created = await register({ url: receiver.url, events: ['call.ended'] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      url: receiver.url,
      events: ['call.ended'],
      agentId: null,
      status: 'normal',
    });
    expect(created.body.secrets).toEqual([expect.stringMatching(/^.{16,}$/)]);
    const path = `${sim.url}/api/webhooks/${created.body.webhookId}`;

    const patched = await api<SimWebhook>(path, { method: 'PATCH', key, body: { secrets: ['s1', 's2'] } });
    expect(patched.body).toMatchObject({ url: receiver.url, secrets: ['s1', 's2'] });
    expect((await api<SimWebhook>(path, { key })).body.secrets).toEqual(['s1', 's2']);
    expect((await api<Page<SimWebhook>>(`${sim.url}/api/webhooks`, { key })).body.total).toBe(1);

    expect((await api(path, { method: 'DELETE', key })).status).toBe(204);
    expect((await api(path, { key })).status).toBe(404);
  });

  it.each([
    [
      'a url longer than 200 characters',
      { url: `http://example.com/${'a'.repeat(190)}`, events: ['call.ended'] },
    ],
    ['a url that is not http(s)', { url: 'ftp://example.com/hook', events: ['call.ended'] }],
    ['an unknown event', { url: 'http://example.com/hook', events: ['call.exploded'] }],
    ['no events', { url: 'http://example.com/hook', events: [] }],
  ])('refuses a webhook with %s (400)', async (_label, body) => {
    const response = await register(body);
    expect(response.status).toBe(400);
    expect(response.body.detail).toEqual(expect.any(String));
  });

  it('plays an answered call out and signs started, joined, ended and billed with every secret', async () => {
    await register({
      url: receiver.url,
      events: ['call.started', 'call.joined', 'call.ended', 'call.billed'],
      secrets: ['old-secret', 'uvx-secret-1'],
    });
    const callId = await placeCall('+15551234567');
    await waitFor('call.billed', () => receiver.received.length === 4);

    expect(eventsReceived('old-secret')).toEqual(eventsReceived('uvx-secret-1'));
    const bodies = inEventOrder(eventsReceived('uvx-secret-1'));
    expect(bodies.map((body) => body.event)).toEqual(EVENT_ORDER);
    const [started, joined, ended, billed] = bodies;
    expect([started, joined, ended, billed].every((body) => body.call.callId === callId)).toBe(true);
    expect(started.call).toMatchObject({ joined: null, ended: null });
    expect(joined.call).toMatchObject({ joined: expect.any(String), ended: null });
    expect(ended.call).toMatchObject({
      endReason: 'hangup',
      billedDuration: expect.stringMatching(/^\d+s$/),
      shortSummary: expect.stringContaining('Ana'),
      summary: expect.any(String),
      billingStatus: 'BILLING_STATUS_PENDING',
    });
    expect(billed.call.billingStatus).toBe('BILLING_STATUS_BILLED');
  });

  it.each([
    ['no answer', '+15551230000', 'unjoined', { terminationReason: 'SIP_TERMINATION_TIMEOUT' }],
    ['busy', '+15551230486', 'unjoined', { terminationReason: 'SIP_TERMINATION_BUSY' }],
    ['a connection error', '+15551230500', 'connection_error', null],
  ])('ends a call with %s without joining it', async (_label, to, endReason, sipDetails) => {
    await register({
      url: receiver.url,
      events: ['call.started', 'call.joined', 'call.ended'],
      secrets: ['uvx-secret-1'],
    });
    await placeCall(to);
    await waitFor('call.ended', () => receiver.received.length === 2);
    const bodies = inEventOrder(eventsReceived('uvx-secret-1'));
    expect(bodies.map((body) => body.event)).toEqual(['call.started', 'call.ended']);
    expect(bodies[1].call).toMatchObject({ joined: null, endReason, sipDetails, summary: null });
  });

  it('sends nothing to a webhook bound to another agent', async () => {
    await register({ url: receiver.url, events: ['call.started'], agentId: 'agent-2' });
    await register({ url: `${receiver.url}?all`, events: ['call.started'] });
    await placeCall('+15551234567', 'agent-1');
    await waitFor('one delivery', () => sim.deliveries().length === 1);
    expect(sim.deliveries()[0].url).toBe(`${receiver.url}?all`);
  });

  it('retries a delivery the receiver answered with 5xx, and records each attempt', async () => {
    receiver.statuses.push(500, 503);
    await register({ url: receiver.url, events: ['call.started'] });
    const callId = await placeCall('+15551230000');
    await waitFor('a successful retry', () => sim.deliveries().some((attempt) => attempt.status === 204));
    expect(sim.deliveries().map(({ attempt, status }) => ({ attempt, status }))).toEqual([
      { attempt: 1, status: 500 },
      { attempt: 2, status: 503 },
      { attempt: 3, status: 204 },
    ]);
    expect(sim.deliveries()[0]).toMatchObject({ event: 'call.started', callId, error: null });
    expect(receiver.received.map((delivery) => delivery.rawBody)).toEqual(
      Array(3).fill(receiver.received[0].rawBody),
    );
  });

  it('marks a webhook unhealthy after failures in a row, with its recent failures, and normal after a success', async () => {
    // call.started only: its first attempt and every retry fail, and nothing else is sent meanwhile.
    receiver.statuses.push(...Array<number>(sim.options.webhookRetries + 1).fill(500));
    const created = await register({ url: receiver.url, events: ['call.started'] });
    const path = `${sim.url}/api/webhooks/${created.body.webhookId}`;
    await placeCall('+15551230000');
    await waitFor('every attempt to fail', () => sim.deliveries().length === sim.options.webhookRetries + 1);
    const unhealthy = await api<SimWebhook>(path, { key });
    expect(unhealthy.body).toMatchObject({ status: 'unhealthy', lastStatusChange: expect.any(String) });
    expect(unhealthy.body.lastStatusChange > created.body.lastStatusChange).toBe(true);
    expect(unhealthy.body.recentFailures).toHaveLength(sim.options.webhookRetries + 1);
    expect(unhealthy.body.recentFailures[0]).toEqual({ timestamp: expect.any(String), error: 'HTTP 500' });

    await placeCall('+15551230000');
    await waitFor('a delivery that succeeds', () => sim.deliveries().some((d) => d.status === 204));
    const recovered = await api<SimWebhook>(path, { key });
    expect(recovered.body.status).toBe('normal');
    expect(recovered.body.lastStatusChange > unhealthy.body.lastStatusChange).toBe(true);
  });

  it('deletes a webhook as in the Ultravox console: GET answers 404 and nothing more is sent to it', async () => {
    const created = await register({ url: receiver.url, events: ['call.started', 'call.ended'] });
    const deleted = await api(`${sim.url}/_sim/webhooks/${created.body.webhookId}`, { method: 'DELETE' });
    expect(deleted.status).toBe(204);
    expect((await api(`${sim.url}/api/webhooks/${created.body.webhookId}`, { key })).status).toBe(404);
    expect(
      (await api(`${sim.url}/_sim/webhooks/${created.body.webhookId}`, { method: 'DELETE' })).status,
    ).toBe(404);
    // A second webhook proves the call's events went out, and none to the deleted one.
    const other = await register({ url: `${receiver.url}?other`, events: ['call.ended'] });
    await placeCall('+15551230000');
    await waitFor('call.ended to the other webhook', () => sim.deliveries().length === 1);
    expect(sim.deliveries()[0].webhookId).toBe(other.body.webhookId);
  });

  it('records a connection error as an attempt without status', async () => {
    await register({ url: 'http://127.0.0.1:9/closed', events: ['call.started'] });
    await placeCall('+15551230000');
    await waitFor('all attempts', () => sim.deliveries().length === sim.options.webhookRetries + 1);
    expect(sim.deliveries().every((attempt) => attempt.status === null && attempt.error !== null)).toBe(true);
  });

  it('resends an event with the very same body, over HTTP or programmatically', async () => {
    await register({ url: receiver.url, events: ['call.started', 'call.ended'] });
    const callId = await placeCall('+15551230000');
    await waitFor('call.ended', () => receiver.received.length === 2);

    const resent = await api<{ deliveries: unknown[] }>(`${sim.url}/_sim/calls/${callId}/resend`, {
      method: 'POST',
      body: { event: 'call.started' },
    });
    expect(resent.status).toBe(200);
    expect(resent.body.deliveries).toEqual([
      expect.objectContaining({ event: 'call.started', resend: true }),
    ]);
    await sim.resend(callId, 'call.ended');
    const raw = receiver.received.map((delivery) => delivery.rawBody);
    expect(raw.slice(2).sort()).toEqual(raw.slice(0, 2).sort());

    const unknown = await api(`${sim.url}/_sim/calls/${callId}/resend`, {
      method: 'POST',
      body: { event: 'x' },
    });
    expect(unknown.status).toBe(400);
  });

  it('loses the next call.ended on purpose, and a resend still delivers the lost body', async () => {
    await register({ url: receiver.url, events: ['call.started', 'call.ended', 'call.billed'] });
    const armed = await api(`${sim.url}/_sim/webhook-drops`, {
      method: 'POST',
      body: { event: 'call.ended', times: 1 },
    });
    expect(armed.status).toBe(201);
    const callId = await placeCall('+15551230000');
    await waitFor('call.billed', () => receiver.received.some((d) => d.rawBody.includes('"call.billed"')));
    const events = receiver.received.map((d) => (JSON.parse(d.rawBody) as WebhookBody).event);
    expect(events).not.toContain('call.ended');
    expect(sim.drops()).toEqual([]);
    const ended = await api<UltravoxCall>(`${sim.url}/api/calls/${callId}`, { key });
    expect(ended.body.ended).toEqual(expect.any(String));

    await sim.resend(callId, 'call.ended');
    const late = receiver.received.map((d) => JSON.parse(d.rawBody) as WebhookBody);
    expect(late.filter((body) => body.event === 'call.ended')).toHaveLength(1);
    expect(
      (await api(`${sim.url}/_sim/webhook-drops`, { method: 'POST', body: { event: 'x' } })).status,
    ).toBe(400);
  });

  it('drops only the named call’s event when a callId is given', async () => {
    await register({ url: receiver.url, events: ['call.ended'] });
    sim.dropWebhooks({ event: 'call.ended', callId: 'not-this-call' });
    await placeCall('+15551230000');
    await waitFor('call.ended', () => receiver.received.length === 1);
    expect(sim.drops()).toEqual([expect.objectContaining({ callId: 'not-this-call', remaining: 1 })]);
  });

  it('forgets a call: GET answers 404 and no more webhooks are sent for it', async () => {
    await register({ url: receiver.url, events: ['call.started', 'call.ended'] });
    const callId = await placeCall('+15551230999');
    await waitFor('call.started', () => receiver.received.length === 1);
    const forgotten = sim.state.findCall(callId)!.call;
    const forgot = await api(`${sim.url}/_sim/calls/${callId}/forget`, { method: 'POST' });
    expect(forgot.status).toBe(204);
    expect((await api(`${sim.url}/api/calls/${callId}`, { key })).status).toBe(404);
    expect((await api(`${sim.url}/_sim/calls/${callId}/forget`, { method: 'POST' })).status).toBe(404);
    // The call still plays out inside the simulator (it ends and is billed) without a webhook.
    await waitFor('the forgotten call billed', () => forgotten.phase === 'billed');
    expect(receiver.received.filter((d) => d.rawBody.includes(callId))).toHaveLength(1);
  });
});
