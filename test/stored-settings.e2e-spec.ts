import request from 'supertest';
import { CallsSweeper } from '../src/calls/calls-sweeper';
import { CampaignDispatcher } from '../src/campaigns/campaign-dispatcher';
import { CallingWindow } from '../src/common/calling-window/calling-window';
import { callingAgency, CallingAgency, simCallsOf, subscribe, trigger } from './support/call-fixtures';
import { CallingStack, startCallingStack, stopCallingStack } from './support/calling-stack';
import { waitFor } from './support/wait';

/*
 * Settings stored invalid anyway (written before input was checked, or by hand; here by SQL): each one
 * fails only its own call or campaign, with an error or reason that says what to fix, and never the
 * loop that serves the other agencies (issue 11, point 2). The dispatcher and the calls sweeper run
 * only when a test calls them.
 */

const OFFICE: CallingWindow = {
  timezone: 'America/New_York',
  days: ['mon', 'tue', 'wed', 'thu', 'fri'],
  start: '09:00',
  end: '17:00',
};
/** Saturday 2026-03-07 10:00 EST, and the next opening of OFFICE: Monday 09:00 EDT. */
const SATURDAY = '2026-03-07T15:00:00Z';
const MONDAY_OPENING = '2026-03-09T13:00:00.000Z';

const BROKEN_WINDOWS: Array<[string, unknown]> = [
  ['an empty array', []],
  ['an empty object', {}],
  ['an unknown time zone', { ...OFFICE, timezone: 'Mars/Olympus_Mons' }],
  ['days that are not an array', { ...OFFICE, days: 'mon' }],
  ['a start of 25:99', { ...OFFICE, start: '25:99' }],
];

type Campaign = { id: string; status: string; paused_reason: string | null; stats: Record<string, number> };
type Payload = Record<string, unknown> & { event: string };

describe('settings stored invalid fail only their own call or campaign (issue 11, point 2)', () => {
  let stack: CallingStack;

  beforeAll(async () => {
    stack = await startCallingStack(
      { timeScale: 0.02, maxConcurrentCalls: 50 },
      {
        API_RATE_LIMIT_PER_MINUTE: '0',
        CALLS_SWEEP_INTERVAL_MS: '3600000',
        CAMPAIGN_TICK_INTERVAL_MS: '3600000',
      },
    );
  });
  afterEach(() => stack.t.clock.release());
  afterAll(() => stopCallingStack(stack));

  const store = (table: 'agencies' | 'agents' | 'campaigns', id: string, column: string, value: unknown) =>
    stack.t.db.query(`UPDATE ${table} SET ${column} = $2 WHERE id = $1`, [
      id,
      table === 'campaigns' && column.startsWith('retry') ? value : JSON.stringify(value),
    ]);
  const callCount = async (agencyId: string) =>
    (await stack.t.db.query(`SELECT count(*)::int AS n FROM calls WHERE agency_id = $1`, [agencyId])).rows[0]
      .n as number;
  /** The events one receiver path got. */
  const received = (path: string) =>
    stack.receiver.received.filter((r) => r.path === path).map((r) => JSON.parse(r.body) as Payload);

  describe('trigger-call', () => {
    it.each(BROKEN_WINDOWS)(
      "an agency window stored as %s answers 422 invalid_calling_window naming the agency's setting, and stores no call",
      async (_, broken) => {
        const agency = await callingAgency(stack.t);
        await store('agencies', agency.agencyId, 'calling_window', broken);
        const res = await trigger(stack.t, agency.apiKey, { phone: '+15552310001' }).expect(422);
        expect(res.body).toEqual({
          success: false,
          error: {
            code: 'invalid_calling_window',
            message: expect.stringMatching(/^The agency's calling_window is stored invalid: /),
            hint: expect.stringContaining('PATCH /api/v1/agency'),
          },
        });
        expect(await callCount(agency.agencyId)).toBe(0);

        // Following the hint fixes it.
        await request(stack.t.url)
          .patch('/api/v1/agency')
          .set('Authorization', agency.owner.auth)
          .send({ calling_window: null })
          .expect(200);
        const fixed = await trigger(stack.t, agency.apiKey, { phone: '+15552310001' }).expect(200);
        expect(fixed.body).toMatchObject({ status: 'queued' });
      },
    );

    it("an agent window stored invalid answers 422 naming the agent and its PATCH route; an agent with a valid window of its own is not held up by the agency's", async () => {
      const agency = await callingAgency(stack.t);
      await store('agents', agency.agentId, 'calling_window', { ...OFFICE, days: [] });
      const res = await trigger(stack.t, agency.apiKey, { phone: '+15552310002' }).expect(422);
      expect(res.body.error).toMatchObject({
        code: 'invalid_calling_window',
        message: expect.stringContaining('days must contain at least 1'),
        hint: expect.stringContaining(`PATCH /api/v1/agents/${agency.agentId}`),
      });
      expect(await callCount(agency.agencyId)).toBe(0);

      await store('agents', agency.agentId, 'calling_window', { ...OFFICE, days: ['sat', 'sun'] });
      await store('agencies', agency.agencyId, 'calling_window', []);
      stack.t.clock.freeze(SATURDAY);
      const byAgent = await trigger(stack.t, agency.apiKey, { phone: '+15552310002' }).expect(200);
      expect(byAgent.body).toMatchObject({ status: 'queued' });
    });
  });

  it("a scheduled call whose agent's window was stored invalid meanwhile fails with invalid_calling_window and call.failed; another agency's scheduled call is dialed in the same sweep", async () => {
    const { t, sim, receiver } = stack;
    const broken = await callingAgency(t, { calling_window: OFFICE });
    const healthy = await callingAgency(t, { calling_window: OFFICE });
    await subscribe(t, broken, `${receiver.url}/scheduled-${broken.agencyId}`, ['call.failed']);
    t.clock.freeze(SATURDAY);
    const brokenCall = await trigger(t, broken.apiKey, { phone: '+15552320001' }).expect(200);
    const healthyCall = await trigger(t, healthy.apiKey, { phone: '+15552320002' }).expect(200);
    expect(brokenCall.body).toMatchObject({ status: 'scheduled', scheduled_for: MONDAY_OPENING });
    expect(healthyCall.body).toMatchObject({ status: 'scheduled', scheduled_for: MONDAY_OPENING });

    await store('agents', broken.agentId, 'calling_window', { ...OFFICE, timezone: 'Mars/Olympus_Mons' });
    t.clock.freeze(new Date(Date.parse(MONDAY_OPENING) + 5_000));
    await t.app.get(CallsSweeper).sweep();

    await waitFor(() => simCallsOf(sim, healthy).length === 1, 10_000, "the healthy agency's create-call");
    const failed = await waitFor(
      () => received(`/scheduled-${broken.agencyId}`).find((e) => e.event === 'call.failed'),
      20_000,
      'call.failed of the call whose window broke',
    );
    expect(failed).toMatchObject({
      call_id: brokenCall.body.call_id,
      failure_reason: 'invalid_calling_window',
    });
    const call = await request(t.url)
      .get(`/api/v1/calls/${brokenCall.body.call_id}`)
      .set('Authorization', broken.owner.auth)
      .expect(200);
    expect(call.body.data).toMatchObject({ status: 'failed', failure_reason: 'invalid_calling_window' });
    expect(simCallsOf(sim, broken)).toHaveLength(0);
  });

  describe('campaigns', () => {
    const api = () => request(stack.t.url);

    async function runningCampaign(agency: CallingAgency, phonePrefix: string): Promise<string> {
      const auth = { Authorization: `Bearer ${agency.apiKey}` };
      const created = await api()
        .post('/api/v1/campaigns')
        .set(auth)
        .send({ name: `Promo ${phonePrefix}`, max_concurrency: 2 })
        .expect(201);
      const id = created.body.data.id as string;
      await api()
        .post(`/api/v1/campaigns/${id}/contacts`)
        .set(auth)
        .send([{ phone: `${phonePrefix}01` }, { phone: `${phonePrefix}02` }])
        .expect(200);
      await api().post(`/api/v1/campaigns/${id}/start`).set(auth).expect(200);
      return id;
    }
    const campaignOf = async (agency: CallingAgency, id: string) =>
      (await api().get(`/api/v1/campaigns/${id}`).set('Authorization', `Bearer ${agency.apiKey}`).expect(200))
        .body.data as Campaign;

    /** Each way a running campaign's settings can be stored invalid, in a campaign of its own agency. */
    const BREAKS: Array<[string, (a: CallingAgency, id: string) => Promise<unknown>, RegExp]> = [
      [
        "the campaign's own calling_window ([])",
        (_, id) => store('campaigns', id, 'calling_window', []),
        /^invalid_calling_window: the campaign's calling_window is stored invalid \(calling_window must be an object\); .*cancel it/,
      ],
      [
        "its agency's calling_window (unknown time zone)",
        (a) => store('agencies', a.agencyId, 'calling_window', { ...OFFICE, timezone: 'Mars/Olympus_Mons' }),
        /^invalid_calling_window: the agency's calling_window is stored invalid \(timezone .*\); .*PATCH \/api\/v1\/agency/,
      ],
      [
        "its agent's calling_window ({})",
        (a) => store('agents', a.agentId, 'calling_window', {}),
        /^invalid_calling_window: agent .*'s calling_window is stored invalid .*PATCH \/api\/v1\/agents\//,
      ],
      [
        'its retry policy (0 attempts)',
        (_, id) => store('campaigns', id, 'retry_max_attempts', 0),
        /^invalid_retry_policy: .*max_attempts/,
      ],
    ];

    it("a dispatcher pass pauses each campaign whose settings are stored invalid, with a paused_reason and campaign.paused, and dials another agency's campaign in the same pass", async () => {
      const { t, sim, receiver } = stack;
      const brokenOnes = await Promise.all(
        BREAKS.map(async ([, breakIt, reason], i) => {
          const agency = await callingAgency(t);
          await subscribe(t, agency, `${receiver.url}/campaign-${agency.agencyId}`, ['campaign.paused']);
          const id = await runningCampaign(agency, `+15552330${i}`);
          await breakIt(agency, id);
          return { agency, id, reason };
        }),
      );
      const healthy = await callingAgency(t);
      const healthyId = await runningCampaign(healthy, '+155523400');

      await t.app.get(CampaignDispatcher).sweep();

      // The positive signal: the healthy campaign's contacts are dialed.
      await waitFor(() => simCallsOf(sim, healthy).length === 2, 10_000, "the healthy campaign's two dials");
      expect((await campaignOf(healthy, healthyId)).status).toBe('running');
      for (const { agency, id, reason } of brokenOnes) {
        const campaign = await campaignOf(agency, id);
        expect(campaign).toMatchObject({ status: 'paused', stats: { pending: 2, in_progress: 0 } });
        expect(campaign.paused_reason).toMatch(reason);
        await waitFor(
          () => received(`/campaign-${agency.agencyId}`).find((e) => e.event === 'campaign.paused'),
          10_000,
          `campaign.paused of ${id}`,
        );
        expect(simCallsOf(sim, agency)).toHaveLength(0);
        expect(await callCount(agency.agencyId)).toBe(0);
      }
    });

    it('following the reason fixes it: the agent window made valid and the campaign resumed, it dials and paused_reason clears', async () => {
      const { t, sim } = stack;
      const agency = await callingAgency(t);
      const id = await runningCampaign(agency, '+155523500');
      await store('agents', agency.agentId, 'calling_window', []);
      await t.app.get(CampaignDispatcher).sweep();
      expect(await campaignOf(agency, id)).toMatchObject({
        status: 'paused',
        paused_reason: expect.stringContaining(`PATCH /api/v1/agents/${agency.agentId}`),
      });

      await api()
        .patch(`/api/v1/agents/${agency.agentId}`)
        .set('Authorization', agency.owner.auth)
        .send({ calling_window: null })
        .expect(200);
      const resumed = await api()
        .post(`/api/v1/campaigns/${id}/resume`)
        .set('Authorization', `Bearer ${agency.apiKey}`)
        .expect(200);
      expect(resumed.body.data).toMatchObject({ status: 'running', paused_reason: null });
      await t.app.get(CampaignDispatcher).sweep();
      await waitFor(() => simCallsOf(sim, agency).length === 2, 10_000, 'the resumed campaign’s dials');
    });
  });
});
