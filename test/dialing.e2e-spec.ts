import request from 'supertest';
import { CallsSweeper } from '../src/calls/calls-sweeper';
import { RecordedRequest, UltravoxSim } from '../tools/ultravox-sim/server';
import { callingAgency, CallingAgency, simCallsOf, subscribe, trigger } from './support/call-fixtures';
import { startCallingStack, stopCallingStack } from './support/calling-stack';
import { Receiver } from './support/receiver';
import { QUEUES } from '../src/common/queues';
import { dialsSettled, jobsFinished } from './support/settled';
import { waitFor } from './support/wait';
import { TestApp } from './support/test-app';

/*
 * Placing calls through Ultravox (CONTRACT §5.3, §7; reference/ultravox-api.md "Placing an outbound
 * phone call"): 429/503 are retried after Retry-After, 400/403/404 fail the call with a call.failed,
 * a timed-out creation is looked up before it is ever redialed, and an agency's live calls are capped.
 */

type Payload = Record<string, unknown> & { event: string; call_id: string };

const CREATE_CALL = { method: 'POST', path: '/api/agents/*' };

/** Everything an agency needs to watch its calls: the agency, a subscribed receiver, and helpers. */
async function watchedAgency(t: TestApp, receiver: Receiver, agent: Record<string, unknown> = {}) {
  const agency = await callingAgency(t, agent);
  await subscribe(t, agency, `${receiver.url}/${agency.agencyId}`);
  return agency;
}

function callOf(t: TestApp, agency: CallingAgency, callId: string) {
  return request(t.url)
    .get(`/api/v1/calls/${callId}`)
    .set('Authorization', agency.owner.auth)
    .expect(200)
    .then((res) => res.body.data as Record<string, unknown> & { status: string });
}

function terminalEvents(receiver: Receiver, callId: string): Payload[] {
  return receiver
    .events<Payload>()
    .filter((p) => p.call_id === callId && /^call\.(completed|failed)$/.test(p.event));
}

const waitForTerminal = (receiver: Receiver, callId: string, timeoutMs = 20_000) =>
  waitFor(() => terminalEvents(receiver, callId)[0], timeoutMs, `the terminal event of ${callId}`);

/** The simulator's calls that carry our call id (what Ultravox actually placed). */
const placedFor = (sim: UltravoxSim, callId: string) =>
  sim.calls().calls.filter((c) => c.call.metadata.switchboard_call_id === callId);

const createCallsOf = (sim: UltravoxSim, agency: CallingAgency): RecordedRequest[] => simCallsOf(sim, agency);

describe('dialing: Ultravox errors at create-call (CONTRACT §5.3, §7)', () => {
  let sim: UltravoxSim;
  let t: TestApp;
  let receiver: Receiver;

  beforeAll(async () => {
    ({ sim, t, receiver } = await startCallingStack({ timeScale: 0.02 }));
  });
  afterEach(() => {
    sim.clearFaults();
    t.clock.release();
  });
  afterAll(() => stopCallingStack({ sim, t, receiver }));

  it('429 with Retry-After: 1 → waits ≥ 1 s, creates again, the call is placed once and completes', async () => {
    const agency = await watchedAgency(t, receiver);
    sim.addFault({
      ...CREATE_CALL,
      status: 429,
      headers: { 'Retry-After': '1' },
      body: { detail: 'Too many' },
      times: 1,
    });
    const callId = (await trigger(t, agency.apiKey, { phone: '+15551110001' }).expect(200)).body.call_id;

    expect(await waitForTerminal(receiver, callId)).toMatchObject({ event: 'call.completed' });
    expect(placedFor(sim, callId)).toHaveLength(1);
    expect(createCallsOf(sim, agency)).toHaveLength(2);
    // A Retry-After this short is waited out inside one attempt (its timing: ultravox.client.spec.ts).
    expect((await callOf(t, agency, callId)).status).toBe('completed');
  });

  it('429 with a long Retry-After (4 s): the call waits queued, not failed, and is dialed after it', async () => {
    const agency = await watchedAgency(t, receiver);
    sim.addFault({ ...CREATE_CALL, status: 429, headers: { 'Retry-After': '4' }, times: 1 });
    const refusedAt = t.clock.freeze();
    const callId = (await trigger(t, agency.apiKey, { phone: '+15551110006' }).expect(200)).body.call_id;

    await waitFor(() => createCallsOf(sim, agency).length === 1, 5_000, 'the first create-call');
    const waiting = await waitFor(
      async () => {
        const call = await callOf(t, agency, callId);
        return call.status === 'queued' && call;
      },
      5_000,
      'the call back in the queue',
    );
    const notBefore = refusedAt.getTime() + 4_000;
    expect(waiting.scheduled_for).toBe(new Date(notBefore).toISOString());
    // Until the app's clock reaches that instant the call is only waiting: one create-call so far.
    expect(createCallsOf(sim, agency)).toHaveLength(1);
    t.clock.freeze(notBefore);
    expect(await waitForTerminal(receiver, callId)).toMatchObject({ event: 'call.completed' });
    expect(createCallsOf(sim, agency)).toHaveLength(2);
    expect(placedFor(sim, callId)).toHaveLength(1);
  });

  it('503 once → retried, placed once, completed', async () => {
    const agency = await watchedAgency(t, receiver);
    sim.addFault({ ...CREATE_CALL, status: 503, body: { detail: 'No capacity' }, times: 1 });
    const callId = (await trigger(t, agency.apiKey, { phone: '+15551110002' }).expect(200)).body.call_id;

    expect(await waitForTerminal(receiver, callId)).toMatchObject({ event: 'call.completed' });
    expect(placedFor(sim, callId)).toHaveLength(1);
    expect(createCallsOf(sim, agency)).toHaveLength(2);
    expect((await callOf(t, agency, callId)).status).toBe('completed');
  });

  it('403 at dial time → failed (ultravox_rejected_key) with one call.failed, never retried', async () => {
    const agency = await watchedAgency(t, receiver);
    sim.addFault({ ...CREATE_CALL, status: 403, body: { detail: 'Invalid API key' }, times: 1 });
    const callId = (await trigger(t, agency.apiKey, { phone: '+15551110003' }).expect(200)).body.call_id;

    const failed = await waitForTerminal(receiver, callId);
    expect(failed).toMatchObject({
      event: 'call.failed',
      call_id: callId,
      failure_reason: 'ultravox_rejected_key',
      started_at: null,
    });
    await dialsSettled(t, agency.agencyId);
    expect(createCallsOf(sim, agency)).toHaveLength(1);
    expect(placedFor(sim, callId)).toHaveLength(0);
    expect(terminalEvents(receiver, callId)).toHaveLength(1);
    expect(await callOf(t, agency, callId)).toMatchObject({
      status: 'failed',
      failure_reason: 'ultravox_rejected_key',
    });
  });

  it('404 (Ultravox agent deleted after it was checked) → failed (ultravox_agent_not_found), never retried', async () => {
    // The agent was verified when saved (an unknown id answers 422 then, test/agents-ultravox); here
    // Ultravox has lost it by the time the call is created.
    const agency = await watchedAgency(t, receiver);
    sim.addFault({ ...CREATE_CALL, status: 404, body: { detail: 'Not found.' }, times: 1 });
    const callId = (await trigger(t, agency.apiKey, { phone: '+15551110004' }).expect(200)).body.call_id;

    expect(await waitForTerminal(receiver, callId)).toMatchObject({
      event: 'call.failed',
      failure_reason: 'ultravox_agent_not_found',
    });
    await dialsSettled(t, agency.agencyId);
    expect(createCallsOf(sim, agency)).toHaveLength(1);
    expect(terminalEvents(receiver, callId)).toHaveLength(1);
    expect(await callOf(t, agency, callId)).toMatchObject({
      status: 'failed',
      failure_reason: 'ultravox_agent_not_found',
    });
  });

  it('400 (Ultravox refuses the body) → failed with one call.failed, never retried', async () => {
    const agency = await watchedAgency(t, receiver);
    sim.addFault({ ...CREATE_CALL, status: 400, body: { detail: { medium: ['bad'] } }, times: 1 });
    const callId = (await trigger(t, agency.apiKey, { phone: '+15551110005' }).expect(200)).body.call_id;

    expect(await waitForTerminal(receiver, callId)).toMatchObject({
      event: 'call.failed',
      failure_reason: expect.any(String),
    });
    await dialsSettled(t, agency.agencyId);
    expect(createCallsOf(sim, agency)).toHaveLength(1);
    expect((await callOf(t, agency, callId)).status).toBe('failed');
  });
});

describe('dialing: a create-call that times out is looked up, never blindly retried', () => {
  let sim: UltravoxSim;
  let t: TestApp;
  let receiver: Receiver;

  beforeAll(async () => {
    // Calls still live when the lookup runs.
    ({ sim, t, receiver } = await startCallingStack({ timeScale: 0.1 }, { ULTRAVOX_TIMEOUT_MS: '500' }));
  });
  afterEach(() => {
    sim.clearFaults();
    t.clock.release();
  });
  afterAll(() => stopCallingStack({ sim, t, receiver }));

  const lookupsOf = (agency: CallingAgency, callId: string) =>
    sim
      .requests()
      .filter(
        (r) =>
          r.method === 'GET' &&
          r.path === '/api/calls' &&
          r.headers['x-api-key'] === agency.ultravoxKey.slice(0, 8) &&
          r.query['metadata.switchboard_call_id'] === callId,
      );

  it('not created (the answer never came): looked up by metadata, found nothing, dialed again once', async () => {
    const agency = await watchedAgency(t, receiver);
    // The simulator holds the request past the 500 ms client timeout; it creates no call.
    sim.addFault({ ...CREATE_CALL, status: 201, delayMs: 1_500, times: 1 });
    const callId = (await trigger(t, agency.apiKey, { phone: '+15551120001' }).expect(200)).body.call_id;

    expect(await waitForTerminal(receiver, callId)).toMatchObject({ event: 'call.completed' });
    expect(placedFor(sim, callId)).toHaveLength(1);
    const creates = createCallsOf(sim, agency);
    expect(creates).toHaveLength(2);
    const [lookup] = lookupsOf(agency, callId);
    expect(lookup).toBeDefined();
    // In the order the simulator received them: the timed-out creation, the lookup, the second creation.
    const order = sim.requests();
    expect(order.indexOf(creates[0])).toBeLessThan(order.indexOf(lookup));
    expect(order.indexOf(lookup)).toBeLessThan(order.indexOf(creates[1]));
  });

  it('the lookup fails too: the call is left dialing, not redialed, until the sweeper looks again', async () => {
    const agency = await watchedAgency(t, receiver);
    sim.addFault({ ...CREATE_CALL, status: 201, delayMs: 1_500, times: 1 });
    sim.addFault({ method: 'GET', path: '/api/calls', status: 500, times: 1 });
    const callId = (await trigger(t, agency.apiKey, { phone: '+15551120003' }).expect(200)).body.call_id;

    await waitFor(() => lookupsOf(agency, callId).length === 1, 5_000, 'the failed lookup');
    // The dial job is over without asking for a retry: nothing is left that could redial blindly.
    await jobsFinished(t, QUEUES.callDial, [callId]);
    expect(createCallsOf(sim, agency)).toHaveLength(1);
    expect((await callOf(t, agency, callId)).status).toBe('dialing');

    // The sweeper's turn for calls stuck in dialing (ULTRAVOX_TIMEOUT_MS + 30 s later): clock moved on.
    t.clock.freeze(Date.now() + 60_000);
    await t.app.get(CallsSweeper).sweep();
    await waitFor(() => lookupsOf(agency, callId).length === 2, 5_000, 'the sweeper’s lookup');
    expect(await waitForTerminal(receiver, callId)).toMatchObject({ event: 'call.completed' });
    expect(createCallsOf(sim, agency)).toHaveLength(2);
    expect(placedFor(sim, callId)).toHaveLength(1);
  });

  it('created but the answer was lost: found by metadata and adopted, no second creation', async () => {
    // The simulator cannot itself create a call AND lose the answer (a fault answers instead of the
    // handler), so the test plays Ultravox: while Switchboard's creation hangs, it creates that very
    // call at the simulator with Switchboard's request body (metadata included).
    const agency = await watchedAgency(t, receiver);
    sim.addFault({ ...CREATE_CALL, status: 201, delayMs: 1_500, times: 1 });
    const callId = (await trigger(t, agency.apiKey, { phone: '+15551120002' }).expect(200)).body.call_id;

    const hung = await waitFor(() => createCallsOf(sim, agency)[0], 5_000, 'the hung create-call');
    const created = await fetch(`${sim.url}${hung.path}`, {
      method: 'POST',
      headers: { 'X-API-Key': agency.ultravoxKey, 'Content-Type': 'application/json' },
      body: JSON.stringify(hung.body),
    });
    expect(created.status).toBe(201);
    const ultravoxCallId = ((await created.json()) as { callId: string }).callId;

    expect(await waitForTerminal(receiver, callId)).toMatchObject({ event: 'call.completed' });
    await waitFor(() => lookupsOf(agency, callId).length > 0, 5_000, 'the lookup by metadata');
    await dialsSettled(t, agency.agencyId);
    // Switchboard's hung request plus the test's stand-in; Switchboard itself never created again.
    expect(createCallsOf(sim, agency)).toHaveLength(2);
    expect(placedFor(sim, callId)).toHaveLength(1);
    expect(await callOf(t, agency, callId)).toMatchObject({
      status: 'completed',
      ultravox_call_id: ultravoxCallId,
    });
    expect(terminalEvents(receiver, callId)).toHaveLength(1);
  });
});

describe('dialing: MAX_CONCURRENT_CALLS_PER_AGENCY caps an agency’s live calls', () => {
  let sim: UltravoxSim;
  let t: TestApp;
  let receiver: Receiver;

  beforeAll(async () => {
    ({ sim, t, receiver } = await startCallingStack(
      { timeScale: 0.2, maxConcurrentCalls: 10 },
      { MAX_CONCURRENT_CALLS_PER_AGENCY: '2' },
    ));
  });
  afterAll(() => stopCallingStack({ sim, t, receiver }));

  it('6 calls at once: at most 2 live at Ultravox, the rest wait queued (never failed), all complete', async () => {
    const agency = await watchedAgency(t, receiver);
    const responses = await Promise.all(
      Array.from({ length: 6 }, (_, i) => trigger(t, agency.apiKey, { phone: `+1555113000${i + 1}` })),
    );
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    const callIds = responses.map((r) => r.body.call_id as string);

    // Sample the calls' states in Postgres while they run.
    let maxLive = 0;
    let sawQueuedWhileAtCap = false;
    const seen = new Set<string>();
    const sample = async () => {
      const { rows } = await t.db.query<{ status: string; n: number }>(
        `SELECT status, count(*)::int AS n FROM calls WHERE agency_id = $1 GROUP BY status`,
        [agency.agencyId],
      );
      const count = (s: string) => rows.find((r) => r.status === s)?.n ?? 0;
      rows.forEach((r) => seen.add(r.status));
      const live = count('dialing') + count('in_progress');
      maxLive = Math.max(maxLive, live);
      if (live === 2 && count('queued') > 0) sawQueuedWhileAtCap = true;
      return count('completed') + count('failed') === 6;
    };
    await waitFor(sample, 45_000, 'all 6 calls to finish');

    for (const callId of callIds) {
      expect(await waitForTerminal(receiver, callId, 5_000)).toMatchObject({ event: 'call.completed' });
      expect(placedFor(sim, callId)).toHaveLength(1);
    }
    const account = sim.calls().accounts.find((a) => a.keyPrefix === agency.ultravoxKey.slice(0, 8))!;
    expect(account.maxConcurrentLive).toBeLessThanOrEqual(2);
    expect(account.maxConcurrentLive).toBe(2);
    expect(maxLive).toBeLessThanOrEqual(2);
    expect(sawQueuedWhileAtCap).toBe(true);
    expect(seen.has('failed')).toBe(false);
    // Waiting at the cap is not a failure at Ultravox either: no create-call was ever refused.
    expect(createCallsOf(sim, agency)).toHaveLength(6);
  });
});
