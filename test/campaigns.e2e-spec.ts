import request from 'supertest';
import { startUltravoxSim, UltravoxSim } from '../tools/ultravox-sim/server';
import { callingAgency, CallingAgency, subscribe } from './support/call-fixtures';
import { createAgency } from './support/fixtures';
import { Receiver } from './support/receiver';
import { dialsSettled, dispatcherPassed } from './support/settled';
import { waitFor } from './support/wait';
import { startTestApp, TestApp } from './support/test-app';

type Campaign = { id: string; status: string; stats: Record<string, number> };

describe('campaigns: dispatch with concurrency, state machine, retries, events (issue 5)', () => {
  let sim: UltravoxSim;
  let t: TestApp;
  let receiver: Receiver;
  let agency: CallingAgency;

  beforeAll(async () => {
    sim = await startUltravoxSim({ timeScale: 0.05, maxConcurrentCalls: 50 });
    t = await startTestApp(
      {
        ULTRAVOX_API_BASE_URL: sim.url,
        API_RATE_LIMIT_PER_MINUTE: '0',
        CAMPAIGN_TICK_INTERVAL_MS: '100',
        CALLS_SWEEP_INTERVAL_MS: '500',
        MAX_CONCURRENT_CALLS_PER_AGENCY: '40',
      },
      { reachable: true },
    );
    receiver = await new Receiver().start();
    agency = await callingAgency(t);
    await subscribe(t, agency, `${receiver.url}/campaigns`, [
      'campaign.started',
      'campaign.paused',
      'campaign.finished',
    ]);
  });
  afterAll(async () => {
    await receiver.close();
    await t.close();
    await sim.close();
  });

  const api = () => request(t.url);
  const auth = () => ({ Authorization: `Bearer ${agency.apiKey}` });
  const contacts = (n: number, prefix = '+1555300') =>
    Array.from({ length: n }, (_, i) => ({
      phone: `${prefix}${String(1000 + i).padStart(4, '0')}`,
      name: `Contact ${i}`,
    }));
  it.each([
    ['calling_window', []],
    ['calling_window', 'weekdays'],
    ['retry', []],
    ['retry', 3],
    ['max_concurrency', null],
  ])('refuses a %s of %j with 400 naming it, and stores no campaign', async (field, value) => {
    const before = await t.db.query('SELECT count(*)::int AS n FROM campaigns');
    const res = await api()
      .post('/api/v1/campaigns')
      .set(auth())
      .send({ name: 'Broken', [field]: value })
      .expect(400);
    expect(res.body.error).toMatchObject({ code: 'validation_failed' });
    expect(res.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
    const after = await t.db.query('SELECT count(*)::int AS n FROM campaigns');
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  async function campaign(body: object = {}, list = contacts(5)): Promise<string> {
    const created = await api()
      .post('/api/v1/campaigns')
      .set(auth())
      .send({ name: 'Spring promo', ...body })
      .expect(201);
    const id = created.body.data.id as string;
    await api().post(`/api/v1/campaigns/${id}/contacts`).set(auth()).send(list).expect(200);
    return id;
  }
  const get = async (id: string) =>
    (await api().get(`/api/v1/campaigns/${id}`).set(auth()).expect(200)).body.data as Campaign;
  const until = (id: string, status: string, ms = 30_000) =>
    waitFor(
      async () => {
        const c = await get(id);
        return c.status === status && c;
      },
      ms,
      `campaign ${status}`,
    );
  const campaignEvents = (id: string) =>
    receiver
      .events<{ event: string; campaign_id: string; status: string; stats: Record<string, number> }>()
      .filter((e) => e.campaign_id === id);

  it('a 40-contact campaign with max_concurrency 3 never has more than 3 live calls and finishes with correct stats', async () => {
    const account = () => sim.calls().accounts.find((a) => a.keyPrefix === agency.ultravoxKey.slice(0, 8));
    const before = account()?.maxConcurrentLive ?? 0;
    expect(before).toBe(0);
    const id = await campaign({ max_concurrency: 3 }, contacts(40));
    const started = await api().post(`/api/v1/campaigns/${id}/start`).set(auth()).expect(200);
    expect(started.body.data.status).toBe('running');
    const done = await until(id, 'finished', 60_000);
    expect(done.stats).toMatchObject({ total: 40, pending: 0, in_progress: 0, completed: 40, failed: 0 });
    expect(account()!.maxConcurrentLive).toBeLessThanOrEqual(3);
    expect(account()!.maxConcurrentLive).toBe(3);
    const events = await waitFor(() => {
      const list = campaignEvents(id);
      return list.some((e) => e.event === 'campaign.finished') && list;
    });
    expect(events.map((e) => e.event)).toEqual(['campaign.started', 'campaign.finished']);
    expect(events[1]).toMatchObject({
      status: 'finished',
      stats: { total: 40, completed: 40, failed: 0, pending: 0, in_progress: 0 },
    });
    const calls = await api()
      .get('/api/v1/calls')
      .query({ campaign_id: id, limit: 100 })
      .set(auth())
      .expect(200);
    expect(calls.body.data).toHaveLength(40);
    expect(calls.body.data.every((c: { campaign_id: string }) => c.campaign_id === id)).toBe(true);
  });

  it('pause stops new dials until resume; illegal transitions answer 409 with the allowed ones', async () => {
    const id = await campaign({ max_concurrency: 1 }, contacts(6, '+1555400'));
    const draftPause = await api().post(`/api/v1/campaigns/${id}/pause`).set(auth()).expect(409);
    expect(draftPause.body.error).toMatchObject({
      code: 'invalid_transition',
      hint: expect.stringContaining('start'),
    });
    await api().post(`/api/v1/campaigns/${id}/start`).set(auth()).expect(200);
    await waitFor(async () => (await get(id)).stats.completed >= 1, 30_000, 'a first completed contact');
    await api().post(`/api/v1/campaigns/${id}/pause`).set(auth()).expect(200);
    await api().post(`/api/v1/campaigns/${id}/pause`).set(auth()).expect(409);
    const paused = await waitFor(
      async () => {
        const c = await get(id);
        return c.stats.in_progress === 0 && c;
      },
      30_000,
      'live calls to finish',
    );
    await dispatcherPassed(t, sim);
    await dialsSettled(t, agency.agencyId);
    const still = await get(id);
    expect(still.stats.completed).toBe(paused.stats.completed);
    expect(still.stats.pending).toBeGreaterThan(0);
    await api().post(`/api/v1/campaigns/${id}/resume`).set(auth()).expect(200);
    const done = await until(id, 'finished', 60_000);
    expect(done.stats.completed).toBe(6);
    expect(campaignEvents(id).map((e) => e.event)).toEqual(
      expect.arrayContaining(['campaign.started', 'campaign.paused']),
    );
  });

  it('cancel stops for good and waiting contacts end canceled', async () => {
    const id = await campaign({ max_concurrency: 1 }, contacts(5, '+1555500'));
    await api().post(`/api/v1/campaigns/${id}/start`).set(auth()).expect(200);
    await api().post(`/api/v1/campaigns/${id}/cancel`).set(auth()).expect(200);
    await api().post(`/api/v1/campaigns/${id}/resume`).set(auth()).expect(409);
    const c = await get(id);
    expect(c.status).toBe('canceled');
    expect(c.stats.canceled).toBeGreaterThanOrEqual(4);
    expect(c.stats.pending).toBe(0);
  });

  it('retries a no-answer contact after the delay, up to max_attempts', async () => {
    const id = await campaign({ retry: { max_attempts: 3, on: ['no_answer'], delay: '300ms' } }, [
      { phone: '+15556660000', name: 'Never answers' },
    ]);
    await api().post(`/api/v1/campaigns/${id}/start`).set(auth()).expect(200);
    const done = await until(id, 'finished', 60_000);
    expect(done.stats).toMatchObject({ total: 1, failed: 1, completed: 0 });
    const list = await api().get(`/api/v1/campaigns/${id}/contacts`).set(auth()).expect(200);
    expect(list.body.data[0]).toMatchObject({ status: 'failed', attempts: 3, last_outcome: 'no_answer' });
    const calls = await api().get('/api/v1/calls').query({ campaign_id: id }).set(auth()).expect(200);
    expect(calls.body.data).toHaveLength(3);
  });

  it('a burst of more dials than the worker has database connections does not stall (30 at once)', async () => {
    const id = await campaign({ max_concurrency: 30 }, contacts(30, '+1555600'));
    await api().post(`/api/v1/campaigns/${id}/start`).set(auth()).expect(200);
    const done = await until(id, 'finished', 60_000);
    expect(done.stats).toMatchObject({ total: 30, completed: 30 });
  });

  it('agency B never sees A’s campaigns', async () => {
    const id = await campaign();
    const b = await createAgency(t, 'B');
    await api().get(`/api/v1/campaigns/${id}`).set('Authorization', b.owner.auth).expect(404);
    await api().post(`/api/v1/campaigns/${id}/start`).set('Authorization', b.owner.auth).expect(404);
    const list = await api().get('/api/v1/campaigns').set('Authorization', b.owner.auth).expect(200);
    expect(list.body.data).toEqual([]);
  });
});
