import request from 'supertest';
import { CallReconciler } from '../src/calls/lifecycle/call-reconciler';
import { UltravoxSim } from '../tools/ultravox-sim/server';
import { callingAgency, CallingAgency, subscribe, trigger } from './support/call-fixtures';
import { startCallingStack, stopCallingStack } from './support/calling-stack';
import { Receiver } from './support/receiver';
import { TestApp } from './support/test-app';
import { waitFor } from './support/wait';

type Payload = Record<string, unknown> & { event: string; call_id: string };
type TimelineEntry = { source: string; event: string; detail: string | null };

/** Past CALLS_RECONCILE_AFTER (2m by default) of silence. */
const SILENT = 3 * 60_000;

describe('calls whose Ultravox webhooks are lost end through reconciliation (CONTRACT §6 lifecycle)', () => {
  let sim: UltravoxSim;
  let t: TestApp;
  let receiver: Receiver;
  let agency: CallingAgency;

  beforeAll(async () => {
    // Slow enough that a "long" call (callee ending 0999) stays live for several seconds.
    ({ sim, t, receiver } = await startCallingStack({ timeScale: 0.5 }));
    agency = await callingAgency(t);
    await subscribe(t, agency, `${receiver.url}/calls`);
  });
  afterEach(() => t.clock.release());
  afterAll(() => stopCallingStack({ sim, t, receiver }));

  const payloadsFor = (callId: string) =>
    receiver.received.map((r) => JSON.parse(r.body) as Payload).filter((p) => p.call_id === callId);
  const terminalsFor = (callId: string) =>
    payloadsFor(callId).filter((p) => p.event === 'call.completed' || p.event === 'call.failed');
  const received = (callId: string, event: string) =>
    waitFor(() => payloadsFor(callId).find((p) => p.event === event), 20_000, `${event} for ${callId}`);
  const ultravoxCallOf = (callId: string) =>
    waitFor(
      () => sim.calls().calls.find((c) => c.call.metadata.switchboard_call_id === callId)?.call.callId,
      10_000,
      'the Ultravox call',
    );
  const callOf = async (callId: string) =>
    (await request(t.url).get(`/api/v1/calls/${callId}`).set('Authorization', agency.member.auth).expect(200))
      .body.data as Record<string, unknown> & { timeline: TimelineEntry[] };
  const lookupsOf = (ultravoxCallId: string) =>
    sim.requests().filter((r) => r.method === 'GET' && r.path === `/api/calls/${ultravoxCallId}`).length;
  /** One reconciliation pass with the app's clock this far past the real time. */
  const reconcileAt = async (aheadMs: number) => {
    t.clock.freeze(Date.now() + aheadMs);
    await t.app.get(CallReconciler).sweep();
  };

  it('a call whose call.ended never arrives completes with transcript and summary, once; a late call.ended changes nothing', async () => {
    const callId = (await trigger(t, agency.apiKey, { phone: '+15557770001', name: 'Ada' }).expect(200)).body
      .call_id as string;
    const ultravoxCallId = await ultravoxCallOf(callId);
    sim.dropWebhooks({ event: 'call.ended', callId: ultravoxCallId });
    await received(callId, 'call.started');
    await waitFor(
      () => sim.state.findCall(ultravoxCallId)?.call.phase === 'billed',
      20_000,
      'the call to end at Ultravox',
    );
    expect((await callOf(callId)).status).toBe('in_progress');

    await reconcileAt(SILENT);
    const completed = await received(callId, 'call.completed');
    expect(completed).toMatchObject({
      summary: expect.stringMatching(/\S/),
      ended_at: expect.any(String),
      transcript: expect.arrayContaining([
        expect.objectContaining({ role: 'agent' }),
        expect.objectContaining({ role: 'human' }),
      ]),
    });
    const call = await callOf(callId);
    expect(call).toMatchObject({ status: 'completed', summary: completed.summary });
    expect(call.transcript).toEqual(completed.transcript);
    expect(call.timeline).toContainEqual(
      expect.objectContaining({ event: 'call.completed', detail: expect.stringMatching(/reconciliation/) }),
    );

    const late = await sim.resend(ultravoxCallId, 'call.ended');
    expect(late).toEqual([expect.objectContaining({ status: 204 })]);
    // The late event is processed (it joins the call's timeline) in the transaction that would also
    // have written a second terminal line and event: there is none.
    const after = await waitFor(
      async () => {
        const c = await callOf(callId);
        return c.timeline.some((e) => e.source === 'ultravox' && e.event === 'call.ended') && c;
      },
      10_000,
      'the late call.ended to be processed',
    );
    expect(
      after.timeline.filter((e) => e.event === 'call.completed' || e.event === 'call.failed'),
    ).toHaveLength(1);
    expect(after).toMatchObject({ status: 'completed', summary: call.summary, ended_at: call.ended_at });
    expect(terminalsFor(callId)).toEqual([expect.objectContaining({ event: 'call.completed' })]);
  });

  it('a call Ultravox no longer knows (404) ends call.failed with ultravox_call_not_found', async () => {
    const callId = (await trigger(t, agency.apiKey, { phone: '+15557770999' }).expect(200)).body
      .call_id as string;
    const ultravoxCallId = await ultravoxCallOf(callId);
    await received(callId, 'call.started');
    sim.forget(ultravoxCallId);

    await reconcileAt(SILENT);
    const failed = await received(callId, 'call.failed');
    expect(failed).toMatchObject({ failure_reason: 'ultravox_call_not_found' });
    const call = await callOf(callId);
    expect(call).toMatchObject({ status: 'failed', failure_reason: 'ultravox_call_not_found' });
    // The line gives the failure reason, then how it was learnt.
    expect(call.timeline).toContainEqual(
      expect.objectContaining({
        event: 'call.failed',
        detail: expect.stringMatching(/^ultravox_call_not_found; .*reconciliation/),
      }),
    );
    expect(terminalsFor(callId)).toHaveLength(1);
  });

  it('a live call is left alone, looked at again later with a growing interval, and ends by its webhook', async () => {
    const callId = (await trigger(t, agency.apiKey, { phone: '+15557710999' }).expect(200)).body
      .call_id as string;
    const ultravoxCallId = await ultravoxCallOf(callId);
    await received(callId, 'call.started');
    const before = lookupsOf(ultravoxCallId);

    await reconcileAt(SILENT);
    expect(lookupsOf(ultravoxCallId)).toBe(before + 1);
    expect((await callOf(callId)).status).toBe('in_progress');
    expect(terminalsFor(callId)).toEqual([]);

    // The next look is CALLS_RECONCILE_AFTER (2m) after the first: not one minute later…
    await reconcileAt(SILENT + 60_000);
    expect(lookupsOf(ultravoxCallId)).toBe(before + 1);
    // …but two minutes later; and then four (not yet at three).
    await reconcileAt(SILENT + 2 * 60_000);
    expect(lookupsOf(ultravoxCallId)).toBe(before + 2);
    await reconcileAt(SILENT + 5 * 60_000);
    expect(lookupsOf(ultravoxCallId)).toBe(before + 2);
    expect((await callOf(callId)).status).toBe('in_progress');

    t.clock.release();
    const completed = await waitFor(() => terminalsFor(callId)[0], 30_000, 'the call to end');
    expect(completed.event).toBe('call.completed');
    const call = await callOf(callId);
    expect(call.timeline).toContainEqual(expect.objectContaining({ event: 'call.completed', detail: null }));
  });

  it('a 429 from Ultravox pushes the call out by Retry-After and stops the pass for the agency', async () => {
    const ids = [
      (await trigger(t, agency.apiKey, { phone: '+15557720999' }).expect(200)).body.call_id as string,
      (await trigger(t, agency.apiKey, { phone: '+15557730999' }).expect(200)).body.call_id as string,
    ];
    const ultravoxIds = [await ultravoxCallOf(ids[0]), await ultravoxCallOf(ids[1])];
    await received(ids[0], 'call.started');
    await received(ids[1], 'call.started');
    const looks = () => ultravoxIds.map(lookupsOf);
    const before = looks();
    sim.addFault({ method: 'GET', path: '/api/calls/*', status: 429, headers: { 'Retry-After': '600' } });

    await reconcileAt(SILENT);
    const first = looks().map((n, i) => n - before[i]);
    expect(first.sort()).toEqual([0, 1]);
    const throttled = looks()[0] - before[0] === 1 ? 0 : 1;
    const other = 1 - throttled;

    // A minute on: the other call is looked at now; the throttled one waits out its ten minutes.
    await reconcileAt(SILENT + 60_000);
    expect(lookupsOf(ultravoxIds[other])).toBe(before[other] + 1);
    expect(lookupsOf(ultravoxIds[throttled])).toBe(before[throttled] + 1);
    await reconcileAt(SILENT + 11 * 60_000);
    expect(lookupsOf(ultravoxIds[throttled])).toBe(before[throttled] + 2);
    for (const id of ids) expect(terminalsFor(id)).toEqual([]);
  });

  it('a call Ultravox cannot be asked about ends call.failed ultravox_unreachable after its maxDuration and a grace', async () => {
    const callId = (await trigger(t, agency.apiKey, { phone: '+15557740999' }).expect(200)).body
      .call_id as string;
    const ultravoxCallId = await ultravoxCallOf(callId);
    await received(callId, 'call.started');
    sim.addFault({ method: 'GET', path: `/api/calls/${ultravoxCallId}`, status: 500, times: 2 });

    await reconcileAt(SILENT);
    expect(lookupsOf(ultravoxCallId)).toBeGreaterThan(0);
    expect((await callOf(callId)).status).toBe('in_progress');

    // The dialer sets no maxDuration: Ultravox's default hour, plus ten minutes, has passed.
    await reconcileAt(75 * 60_000);
    const failed = await received(callId, 'call.failed');
    expect(failed).toMatchObject({ failure_reason: 'ultravox_unreachable' });
    expect(terminalsFor(callId)).toHaveLength(1);
  });
});
