import request from 'supertest';
import { startUltravoxSim, UltravoxSim } from '../tools/ultravox-sim/server';
import { CallsSweeper } from '../src/calls/calls-sweeper';
import { CallingWindow } from '../src/common/calling-window/calling-window';
import { QUEUES } from '../src/common/queues';
import { callingAgency, CallingAgency, simCallsOf, trigger } from './support/call-fixtures';
import { dialParked, jobState } from './support/settled';
import { waitFor } from './support/wait';
import { startTestApp, TestApp } from './support/test-app';

/*
 * Calling windows (CONTRACT §5.3, §7): outside the window a call is accepted as `scheduled` and dialed
 * when the window opens. The app's Clock is frozen at chosen instants (no long sleeps); the calls
 * sweeper's automatic run is pushed out of the way and `sweep()` is called by hand.
 */

const NEW_YORK_OFFICE: CallingWindow = {
  timezone: 'America/New_York',
  days: ['mon', 'tue', 'wed', 'thu', 'fri'],
  start: '09:00',
  end: '17:00',
};

/** Saturday 2026-03-07 10:00 EST; America/New_York springs forward on Sunday 2026-03-08. */
const SATURDAY = new Date('2026-03-07T15:00:00Z');
/** Monday 2026-03-09 09:00 EDT (UTC-4 now, UTC-5 on Saturday). */
const MONDAY_OPENING = '2026-03-09T13:00:00.000Z';

describe('scheduled calls: calling windows and the injected clock (CONTRACT §5.3, §7)', () => {
  let sim: UltravoxSim;
  let t: TestApp;

  beforeAll(async () => {
    sim = await startUltravoxSim({ timeScale: 0.02 });
    t = await startTestApp(
      // The sweeper runs only when a test calls it.
      { ULTRAVOX_API_BASE_URL: sim.url, CALLS_SWEEP_INTERVAL_MS: '3600000' },
      { reachable: true },
    );
  });
  afterEach(async () => {
    t.clock.release();
    // Leftover scheduled calls must not be dialed by another test's sweep.
    await t.db.query(`UPDATE calls SET status = 'canceled' WHERE status = 'scheduled'`);
  });
  afterAll(async () => {
    await t.close();
    await sim.close();
  });

  const freeze = (at: Date | string) => t.clock.freeze(at);

  const getCall = async (agency: CallingAgency, callId: string) =>
    (await request(t.url).get(`/api/v1/calls/${callId}`).set('Authorization', agency.owner.auth).expect(200))
      .body.data as Record<string, unknown>;

  /** An agent with this window, in a fresh agency; trigger-call returns its answer. */
  async function triggerWith(window: CallingWindow | null, at: Date | string) {
    const agency = await callingAgency(t, window ? { calling_window: window } : {});
    freeze(at);
    const res = await trigger(t, agency.apiKey, { phone: '+15552220001' }).expect(200);
    return { agency, res };
  }

  it('Saturday, window mon–fri 09:00–17:00 New York → scheduled for Monday 09:00 EDT (after spring-forward)', async () => {
    const { agency, res } = await triggerWith(NEW_YORK_OFFICE, SATURDAY);
    expect(res.body).toEqual({
      success: true,
      call_id: expect.any(String),
      status: 'scheduled',
      scheduled_for: MONDAY_OPENING,
      missing_variables: [],
    });
    expect(await getCall(agency, res.body.call_id)).toMatchObject({
      id: res.body.call_id,
      status: 'scheduled',
      scheduled_for: MONDAY_OPENING,
      ultravox_call_id: null,
    });
    await dialParked(t, res.body.call_id);
    expect(simCallsOf(sim, agency)).toHaveLength(0);
  });

  describe('an overnight window (Europe/Berlin, fri 20:00–02:00)', () => {
    const FRIDAY_NIGHT: CallingWindow = {
      timezone: 'Europe/Berlin',
      days: ['fri'],
      start: '20:00',
      end: '02:00',
    };

    it('Saturday 00:30 Berlin (still Friday’s window) → queued and dialed', async () => {
      const { agency, res } = await triggerWith(FRIDAY_NIGHT, '2026-03-06T23:30:00Z');
      expect(res.body).toEqual({
        success: true,
        call_id: expect.any(String),
        status: 'queued',
        missing_variables: [],
      });
      await waitFor(() => simCallsOf(sim, agency).length === 1, 10_000, 'the create-call');
    });

    it('Saturday 03:00 Berlin (window closed) → scheduled for next Friday 20:00 Berlin', async () => {
      const { agency, res } = await triggerWith(FRIDAY_NIGHT, '2026-03-07T02:00:00Z');
      expect(res.body).toMatchObject({ status: 'scheduled', scheduled_for: '2026-03-13T19:00:00.000Z' });
      await dialParked(t, res.body.call_id);
      expect(simCallsOf(sim, agency)).toHaveLength(0);
    });
  });

  it('fall-back (New York, 2026-11-01): a window opening at 01:30 opens at the FIRST 01:30 (EDT, 05:30Z)', async () => {
    const { res } = await triggerWith(
      { timezone: 'America/New_York', days: ['sun'], start: '01:30', end: '04:00' },
      '2026-10-31T16:00:00Z',
    );
    expect(res.body).toMatchObject({ status: 'scheduled', scheduled_for: '2026-11-01T05:30:00.000Z' });
  });

  it('spring-forward (New York, 2026-03-08): a window opening at 02:30, which does not exist that night, opens at 03:00 EDT', async () => {
    const { res } = await triggerWith(
      { timezone: 'America/New_York', days: ['sun'], start: '02:30', end: '05:00' },
      SATURDAY,
    );
    expect(res.body).toMatchObject({ status: 'scheduled', scheduled_for: '2026-03-08T07:00:00.000Z' });
  });

  it.each([
    ['Monday 09:00:00 EDT (start, inclusive)', '2026-03-09T13:00:00Z', { status: 'queued' }],
    [
      'Monday 08:59:59 EDT',
      '2026-03-09T12:59:59Z',
      { status: 'scheduled', scheduled_for: '2026-03-09T13:00:00.000Z' },
    ],
    [
      'Monday 17:00:00 EDT (end, exclusive)',
      '2026-03-09T21:00:00Z',
      { status: 'scheduled', scheduled_for: '2026-03-10T13:00:00.000Z' },
    ],
    [
      'Friday 17:30 EDT',
      '2026-03-13T21:30:00Z',
      { status: 'scheduled', scheduled_for: '2026-03-16T13:00:00.000Z' },
    ],
  ])('window edges: %s', async (_, at, expected) => {
    const { res } = await triggerWith(NEW_YORK_OFFICE, at);
    expect(res.body).toMatchObject(expected);
    if (expected.status === 'queued') expect(res.body.scheduled_for).toBeUndefined();
  });

  it('the agency’s calling window applies when the agent has none; an agent’s own window overrides it', async () => {
    const agency = await callingAgency(t);
    // No API sets the agency window at the time of writing: set it in the database.
    await t.db.query(`UPDATE agencies SET calling_window = $2::jsonb WHERE id = $1`, [
      agency.agencyId,
      JSON.stringify(NEW_YORK_OFFICE),
    ]);
    freeze(SATURDAY);

    const byAgency = await trigger(t, agency.apiKey, { phone: '+15552220002' }).expect(200);
    expect(byAgency.body).toMatchObject({ status: 'scheduled', scheduled_for: MONDAY_OPENING });

    const weekendAgent = await request(t.url)
      .post('/api/v1/agents')
      .set('Authorization', agency.owner.auth)
      .send({
        name: 'Weekend Agent',
        ultravox_agent_id: 'b5f3c2a1-0000-4000-8000-000000000001',
        phone_number: agency.callerId,
        calling_window: { timezone: 'Europe/London', days: ['sat', 'sun'], start: '10:00', end: '12:00' },
      })
      .expect(201);
    const byAgent = await trigger(t, agency.apiKey, {
      phone: '+15552220003',
      agent_id: weekendAgent.body.data.id,
    }).expect(200);
    // Saturday 15:00 London is past Saturday's window: Sunday 10:00 GMT, not the agency's Monday.
    expect(byAgent.body).toMatchObject({ status: 'scheduled', scheduled_for: '2026-03-08T10:00:00.000Z' });

    const anyTimeAgent = await request(t.url)
      .post('/api/v1/agents')
      .set('Authorization', agency.owner.auth)
      .send({
        name: 'Always Agent',
        ultravox_agent_id: 'b5f3c2a1-0000-4000-8000-000000000002',
        phone_number: agency.callerId,
        calling_window: {
          timezone: 'UTC',
          days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'],
          start: '00:00',
          end: '23:59',
        },
      })
      .expect(201);
    const now = await trigger(t, agency.apiKey, {
      phone: '+15552220004',
      agent_id: anyTimeAgent.body.data.id,
    }).expect(200);
    expect(now.body).toEqual({
      success: true,
      call_id: expect.any(String),
      status: 'queued',
      missing_variables: [],
    });
  });

  it('a scheduled call is dialed when its time comes: clock past scheduled_for, sweep → placed and completed', async () => {
    const { agency, res } = await triggerWith(NEW_YORK_OFFICE, SATURDAY);
    const callId = res.body.call_id as string;
    expect(res.body).toMatchObject({ status: 'scheduled', scheduled_for: MONDAY_OPENING });

    // Still Saturday: a sweep leaves it alone (its dial job still waits in the delayed set).
    await dialParked(t, callId);
    await t.app.get(CallsSweeper).sweep();
    expect(await jobState(t, QUEUES.callDial, callId)).toBe('delayed');
    expect(simCallsOf(sim, agency)).toHaveLength(0);
    expect(await getCall(agency, callId)).toMatchObject({ status: 'scheduled' });

    freeze(new Date(Date.parse(MONDAY_OPENING) + 5_000));
    await t.app.get(CallsSweeper).sweep();
    const created = await waitFor(() => simCallsOf(sim, agency)[0], 10_000, 'the create-call');
    expect(created.body).toMatchObject({ metadata: { switchboard_call_id: callId } });
    await waitFor(
      async () => (await getCall(agency, callId)).status === 'completed',
      20_000,
      'the call to complete',
    );
    expect(simCallsOf(sim, agency)).toHaveLength(1);
  });
});
