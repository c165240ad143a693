import request from 'supertest';
import { BillingReconciler } from '../src/calls/lifecycle/billing-reconciler';
import { UltravoxSim } from '../tools/ultravox-sim/server';
import { callingAgency, CallingAgency, subscribe, trigger } from './support/call-fixtures';
import { startCallingStack, stopCallingStack } from './support/calling-stack';
import { Receiver } from './support/receiver';
import { TestApp } from './support/test-app';
import { waitFor } from './support/wait';

type Payload = { event: string; call_id: string };
type CallView = Record<string, unknown> & {
  status: string;
  billing_status: string | null;
  billed_duration_seconds: number | null;
  timeline: { source: string; event: string }[];
};

describe('billing from Ultravox (call.billed, or reconciliation when it is lost)', () => {
  let sim: UltravoxSim;
  let t: TestApp;
  let receiver: Receiver;

  beforeAll(async () => {
    // A short CALLS_RECONCILE_AFTER: a call still pending one second after its end is read back.
    // Billed 3 s after the end, so that the end is processed while billing is still pending.
    ({ sim, t, receiver } = await startCallingStack(
      { timeScale: 0.02, timings: { billedDelayMs: 3_000 } },
      { CALLS_RECONCILE_AFTER: '1s' },
    ));
  });
  afterAll(() => stopCallingStack({ sim, t, receiver }));

  /** A fresh agency per test, subscribed to every call event at its own path of the receiver. */
  const agencyWithEndpoint = async () => {
    const agency = await callingAgency(t);
    const path = `/${agency.agencyId}`;
    await subscribe(t, agency, `${receiver.url}${path}`);
    return { agency, path };
  };
  const eventsAt = (path: string) =>
    receiver.received.filter((r) => r.path === path).map((r) => (JSON.parse(r.body) as Payload).event);
  const callOf = async (agency: CallingAgency, callId: string) =>
    (await request(t.url).get(`/api/v1/calls/${callId}`).set('Authorization', agency.member.auth).expect(200))
      .body.data as CallView;
  const simCallOf = (callId: string) =>
    sim.calls().calls.find((c) => c.call.metadata.switchboard_call_id === callId);
  const place = async (agency: CallingAgency, phone: string) =>
    (await trigger(t, agency.apiKey, { phone, name: 'Ada' }).expect(200)).body.call_id as string;
  const billedCall = (agency: CallingAgency, callId: string) =>
    waitFor(
      async () => {
        const call = await callOf(agency, callId);
        const ended = call.status === 'completed' || call.status === 'failed';
        return ended && call.billing_status !== null && call.billing_status !== 'pending' && call;
      },
      20_000,
      'the call to end and be billed',
    );

  it('call.billed fills billing_status and billed_duration_seconds and emits nothing, nor any delivery', async () => {
    const { agency, path } = await agencyWithEndpoint();
    const callId = await place(agency, '+15557770001');
    await billedCall(agency, callId);
    // Its call.billed processed (the timeline shows it received from Ultravox): under load the
    // billing reconciler may have read the billing back first, which changes none of what follows.
    const call = await waitFor(
      async () => {
        const c = await callOf(agency, callId);
        return c.timeline.some((e) => e.source === 'ultravox' && e.event === 'call.billed') && c;
      },
      20_000,
      'call.billed to be processed',
    );
    const remote = simCallOf(callId)!.call;
    expect(remote.billingStatus).toBe('BILLING_STATUS_BILLED');
    expect(call).toMatchObject({
      status: 'completed',
      billing_status: 'billed',
      billed_duration_seconds: Number.parseInt(remote.billedDuration!, 10),
    });
    expect(call.billed_duration_seconds).toBeGreaterThan(0);

    await waitFor(() => eventsAt(path).includes('call.completed'), 10_000, 'call.completed');
    expect(eventsAt(path)).toEqual(['call.started', 'call.completed']);
    const { body: endpoints } = await request(t.url)
      .get('/api/v1/webhooks')
      .set('Authorization', agency.member.auth)
      .expect(200);
    const { body: log } = await request(t.url)
      .get(`/api/v1/webhooks/${endpoints.data[0].webhookId}/deliveries`)
      .set('Authorization', agency.member.auth)
      .expect(200);
    expect((log.data as { event: string }[]).map((d) => d.event).sort()).toEqual([
      'call.completed',
      'call.started',
    ]);
  });

  it.each([
    ['an unanswered call', '+15557770000', 'failed', 'free_zero_effective_duration'],
    ['a call lost to a connection error', '+15557770500', 'failed', 'free_system_error'],
  ])('%s says Ultravox did not bill it', async (_label, phone, status, billingStatus) => {
    const { agency } = await agencyWithEndpoint();
    const callId = await place(agency, phone);
    const call = await billedCall(agency, callId);
    expect(call).toMatchObject({ status, billing_status: billingStatus, billed_duration_seconds: 0 });
  });

  it('a lost call.billed is filled by reading the call back, still without any event', async () => {
    const { agency, path } = await agencyWithEndpoint();
    sim.dropWebhooks({ event: 'call.billed', times: 1 });
    const callId = await place(agency, '+15557771234');
    const call = await billedCall(agency, callId);
    // Ultravox billed it and sent no call.billed: Switchboard learnt it by reading the call back.
    const ultravoxCallId = simCallOf(callId)!.call.callId;
    expect(sim.drops()).toEqual([]);
    expect(
      sim
        .deliveries()
        .filter((d) => d.callId === ultravoxCallId)
        .map((d) => d.event),
    ).not.toContain('call.billed');
    expect(call).toMatchObject({
      status: 'completed',
      billing_status: 'billed',
      billed_duration_seconds: Number.parseInt(simCallOf(callId)!.call.billedDuration!, 10),
    });
    expect(call.timeline).not.toContainEqual(expect.objectContaining({ event: 'call.billed' }));
    await waitFor(() => eventsAt(path).includes('call.completed'), 10_000, 'call.completed');
    expect(eventsAt(path)).toEqual(['call.started', 'call.completed']);
  });
});

describe('billing Ultravox never finalises: unavailable 12 h after the end (BILLING_WAIT_MS)', () => {
  let sim: UltravoxSim;
  let t: TestApp;
  let receiver: Receiver;

  beforeAll(async () => {
    // Ultravox bills nothing for an hour: every read back says pending.
    ({ sim, t, receiver } = await startCallingStack(
      { timeScale: 0.02, timings: { billedDelayMs: 3_600_000 } },
      { CALLS_RECONCILE_AFTER: '1s' },
    ));
  });
  afterEach(() => t.clock.release());
  afterAll(() => stopCallingStack({ sim, t, receiver }));

  it('a call still pending 12 h after its end is marked unavailable, read back first, with no event', async () => {
    const agency = await callingAgency(t);
    await subscribe(t, agency, `${receiver.url}/${agency.agencyId}`);
    const callId = (await trigger(t, agency.apiKey, { phone: '+15557771234', name: 'Ada' }).expect(200)).body
      .call_id as string;
    const callOf = async () =>
      (
        await request(t.url)
          .get(`/api/v1/calls/${callId}`)
          .set('Authorization', agency.member.auth)
          .expect(200)
      ).body.data as CallView;
    await waitFor(
      async () => {
        const call = await callOf();
        return call.status === 'completed' && call.billing_status === 'pending';
      },
      20_000,
      'the call to complete with its billing pending',
    );
    const ultravoxCallId = sim.calls().calls.find((c) => c.call.metadata.switchboard_call_id === callId)!.call
      .callId;
    const readsBack = () =>
      sim.requests().filter((r) => r.method === 'GET' && r.path === `/api/calls/${ultravoxCallId}`).length;
    const before = readsBack();

    t.clock.advance(12 * 60 * 60_000 + 60_000);
    const reconciler = t.app.get(BillingReconciler);
    const call = await waitFor(
      async () => {
        await reconciler.sweep();
        const now = await callOf();
        return now.billing_status === 'unavailable' && now;
      },
      20_000,
      'billing_status unavailable',
    );
    // Ultravox was asked once more before Switchboard gave up; nothing else about the call changed.
    expect(readsBack()).toBeGreaterThan(before);
    expect(call).toMatchObject({ status: 'completed', billed_duration_seconds: null });
    const events = receiver.received
      .filter((r) => r.path === `/${agency.agencyId}`)
      .map((r) => (JSON.parse(r.body) as Payload).event);
    expect(events).toEqual(['call.started', 'call.completed']);
  });
});
