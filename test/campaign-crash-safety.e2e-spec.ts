import request from 'supertest';
import { startUltravoxSim, UltravoxSim } from '../tools/ultravox-sim/server';
import { callingAgency, CallingAgency, simCallsOf } from './support/call-fixtures';
import { waitFor } from './support/wait';
import { NodeProcess, spawnWorker } from './support/spawn';
import { startTestApp, TestApp } from './support/test-app';

const CONTACTS = 24;

describe('campaigns survive a worker SIGKILL (issue 5)', () => {
  let sim: UltravoxSim;
  let t: TestApp;
  let agency: CallingAgency;
  let worker: NodeProcess | undefined;
  const startWorker = () =>
    spawnWorker(t.env, {
      CAMPAIGN_TICK_INTERVAL_MS: '100',
      CALLS_SWEEP_INTERVAL_MS: '500',
    });

  beforeAll(async () => {
    sim = await startUltravoxSim({ timeScale: 0.1, maxConcurrentCalls: 50 });
    t = await startTestApp(
      {
        APP_ROLE: 'api',
        ULTRAVOX_API_BASE_URL: sim.url,
        ULTRAVOX_TIMEOUT_MS: '1000',
        API_RATE_LIMIT_PER_MINUTE: '0',
      },
      { reachable: true },
    );
    agency = await callingAgency(t);
  });
  afterAll(async () => {
    await worker?.stop(2_000);
    await t.close();
    await sim.close();
  });

  it('no contact is dialed twice for one attempt, none is stranded, and the campaign finishes', async () => {
    const auth = { Authorization: `Bearer ${agency.apiKey}` };
    const created = await request(t.url)
      .post('/api/v1/campaigns')
      .set(auth)
      .send({ name: 'Crash test', max_concurrency: 4 })
      .expect(201);
    const id = created.body.data.id as string;
    const phones = Array.from({ length: CONTACTS }, (_, i) => `+1555770${String(1000 + i)}`);
    await request(t.url)
      .post(`/api/v1/campaigns/${id}/contacts`)
      .set(auth)
      .send(phones.map((phone) => ({ phone })))
      .expect(200);
    worker = startWorker();
    await request(t.url).post(`/api/v1/campaigns/${id}/start`).set(auth).expect(200);
    const stats = async () =>
      (await request(t.url).get(`/api/v1/campaigns/${id}`).set(auth).expect(200)).body.data;
    await waitFor(async () => (await stats()).stats.completed >= 6, 30_000, 'some contacts done');
    worker.child.kill('SIGKILL');
    await worker.exited;
    const atCrash = (await stats()).stats;
    expect(atCrash.completed).toBeLessThan(CONTACTS);

    worker = startWorker();
    const done = await waitFor(
      async () => {
        const campaign = await stats();
        return campaign.status === 'finished' && campaign;
      },
      120_000,
      'the campaign to finish',
    );
    expect(done.stats).toMatchObject({
      total: CONTACTS,
      completed: CONTACTS,
      failed: 0,
      pending: 0,
      in_progress: 0,
    });
    const dialedPerPhone = new Map<string, number>();
    for (const r of simCallsOf(sim, agency)) {
      const to = (r.body as { medium: { twilio: { outgoing: { to: string } } } }).medium.twilio.outgoing.to;
      dialedPerPhone.set(to, (dialedPerPhone.get(to) ?? 0) + 1);
    }
    expect([...dialedPerPhone.keys()].sort()).toEqual([...phones].sort());
    expect([...dialedPerPhone.values()].every((n) => n === 1)).toBe(true);
  }, 180_000);
});
