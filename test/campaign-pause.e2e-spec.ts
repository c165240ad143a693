import request from 'supertest';
import { startUltravoxSim, UltravoxSim } from '../tools/ultravox-sim/server';
import { callingAgency, CallingAgency } from './support/call-fixtures';
import { dialsSettled, dispatcherPassed } from './support/settled';
import { waitFor } from './support/wait';
import { startTestApp, TestApp } from './support/test-app';

type Campaign = { id: string; status: string; stats: Record<string, number> };
type CallRecord = { id: string; status: string; failure_reason: string | null; phone_number: string };

/*
 * Pause and cancel stop the dials that have not happened yet — including calls a tick already created
 * that wait for the agency's live-call cap (README "Calls, calling windows and campaigns").
 * MAX_CONCURRENT_CALLS_PER_AGENCY=1 with max_concurrency 3: one call live, two created and waiting.
 */
describe('campaigns: pause and cancel withdraw calls created but not yet dialed', () => {
  let sim: UltravoxSim;
  let t: TestApp;
  let agency: CallingAgency;

  beforeAll(async () => {
    // An answered call lasts ~3 s here: long enough to act while one is live.
    sim = await startUltravoxSim({ timeScale: 0.5, maxConcurrentCalls: 50 });
    t = await startTestApp(
      {
        ULTRAVOX_API_BASE_URL: sim.url,
        API_RATE_LIMIT_PER_MINUTE: '0',
        CAMPAIGN_TICK_INTERVAL_MS: '100',
        CALLS_SWEEP_INTERVAL_MS: '500',
        MAX_CONCURRENT_CALLS_PER_AGENCY: '1',
      },
      { reachable: true },
    );
    agency = await callingAgency(t);
  });
  afterAll(async () => {
    await t.close();
    await sim.close();
  });

  const api = () => request(t.url);
  const auth = () => ({ Authorization: `Bearer ${agency.apiKey}` });
  const get = async (id: string) =>
    (await api().get(`/api/v1/campaigns/${id}`).set(auth()).expect(200)).body.data as Campaign;
  const callsOf = async (id: string) =>
    (await api().get('/api/v1/calls').query({ campaign_id: id, limit: 100 }).set(auth()).expect(200)).body
      .data as CallRecord[];
  /** Calls the simulator was asked to place to this campaign's numbers. */
  const dialed = (prefix: string) =>
    sim.calls().calls.filter((c) => JSON.stringify(c.call.medium ?? {}).includes(prefix)).length;

  async function startWithOneLiveAndTwoWaiting(prefix: string): Promise<string> {
    const contacts = Array.from({ length: 6 }, (_, i) => ({ phone: `${prefix}${1000 + i}`, name: `C${i}` }));
    const created = await api()
      .post('/api/v1/campaigns')
      .set(auth())
      .send({ name: 'Capped', max_concurrency: 3 })
      .expect(201);
    const id = created.body.data.id as string;
    await api().post(`/api/v1/campaigns/${id}/contacts`).set(auth()).send(contacts).expect(200);
    await api().post(`/api/v1/campaigns/${id}/start`).set(auth()).expect(200);
    await waitFor(
      async () => {
        const calls = await callsOf(id);
        return (
          calls.length === 3 &&
          calls.filter((c) => c.status === 'queued').length === 2 &&
          calls.some((c) => c.status === 'in_progress')
        );
      },
      20_000,
      'one call live and two waiting for the agency cap',
    );
    return id;
  }

  /** Pauses or cancels the campaign; its two waiting calls must then be canceled for `reason`. */
  async function actAndExpectWithdrawn(id: string, action: 'pause' | 'cancel', reason: string) {
    await api().post(`/api/v1/campaigns/${id}/${action}`).set(auth()).expect(200);
    const withdrawn = (await callsOf(id)).filter((c) => c.status === 'canceled');
    expect(withdrawn.map((c) => c.failure_reason)).toEqual([reason, reason]);
    return withdrawn;
  }

  it('pause: the waiting calls are canceled and never dialed; resume dials their contacts afresh', async () => {
    const prefix = '+1555610';
    const id = await startWithOneLiveAndTwoWaiting(prefix);
    const withdrawn = await actAndExpectWithdrawn(id, 'pause', 'campaign_paused');
    expect((await get(id)).stats).toMatchObject({ in_progress: 1, pending: 5 });
    const timeline = await api().get(`/api/v1/calls/${withdrawn[0].id}`).set(auth()).expect(200);
    expect(JSON.stringify(timeline.body.data)).toContain('campaign_paused');

    // The live call finishes; nothing else rings while paused.
    await waitFor(async () => (await get(id)).stats.in_progress === 0, 20_000, 'the live call to end');
    await dispatcherPassed(t, sim);
    await dialsSettled(t, agency.agencyId);
    expect(dialed(prefix)).toBe(1);
    expect((await get(id)).stats).toMatchObject({ completed: 1, pending: 5, in_progress: 0 });

    await api().post(`/api/v1/campaigns/${id}/resume`).set(auth()).expect(200);
    const done = await waitFor(
      async () => {
        const c = await get(id);
        return c.status === 'finished' && c;
      },
      90_000,
      'the campaign to finish',
    );
    expect(done.stats).toMatchObject({ total: 6, completed: 6, failed: 0, canceled: 0 });
    expect(dialed(prefix)).toBe(6);
    const calls = await callsOf(id);
    expect(calls.filter((c) => c.status === 'completed')).toHaveLength(6);
    expect(calls.filter((c) => c.status === 'canceled')).toHaveLength(2);
  }, 120_000);

  it('cancel: the waiting calls are canceled, and the live one, when it ends, settles its contact', async () => {
    const prefix = '+1555620';
    const id = await startWithOneLiveAndTwoWaiting(prefix);
    await actAndExpectWithdrawn(id, 'cancel', 'campaign_canceled');
    expect((await get(id)).stats).toMatchObject({ in_progress: 1, canceled: 5 });

    const settled = await waitFor(
      async () => {
        const c = await get(id);
        return c.stats.in_progress === 0 && c;
      },
      20_000,
      'the live call’s contact to settle',
    );
    expect(settled.status).toBe('canceled');
    expect(settled.stats).toMatchObject({ total: 6, completed: 1, canceled: 5, pending: 0 });
    await dispatcherPassed(t, sim);
    await dialsSettled(t, agency.agencyId);
    expect(dialed(prefix)).toBe(1);
  }, 60_000);
});
