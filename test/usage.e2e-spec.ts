import request from 'supertest';
import { UltravoxSim } from '../tools/ultravox-sim/server';
import { callingAgency, CallingAgency, trigger } from './support/call-fixtures';
import { startCallingStack, stopCallingStack } from './support/calling-stack';
import { Receiver } from './support/receiver';
import { TestApp } from './support/test-app';
import { waitFor } from './support/wait';

type Figures = {
  calls_placed: number;
  connected: number;
  failed: Record<string, number>;
  talk_seconds: number;
  billed_seconds: number;
};
type Group = Figures & { key: string | null };
type CallRow = {
  id: string;
  status: string;
  failure_reason: string | null;
  agent_id: string | null;
  campaign_id: string | null;
  created_at: string;
  duration_seconds: number | null;
  billed_duration_seconds: number | null;
  billing_status: string | null;
};

const ZONE = 'Pacific/Chatham'; // +12:45 / +13:45: days that begin on a quarter hour
const HOUR = 60 * 60_000;

/** HH:MM in `zone` at `at`. */
const hhmm = (at: Date, zone: string) =>
  new Intl.DateTimeFormat('en-GB', {
    timeZone: zone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(at);
/** YYYY-MM-DD in `zone` at `at`. */
const localDay = (at: Date, zone: string) => new Intl.DateTimeFormat('en-CA', { timeZone: zone }).format(at);

/** What the report must say for `calls`, grouped by `keyOf`: computed from the calls API. */
function expected(calls: CallRow[], keyOf: (call: CallRow) => string | null): Group[] {
  const groups = new Map<string | null, Group>();
  for (const call of calls) {
    const key = keyOf(call);
    const group = groups.get(key) ?? {
      key,
      calls_placed: 0,
      connected: 0,
      failed: {},
      talk_seconds: 0,
      billed_seconds: 0,
    };
    groups.set(key, group);
    group.calls_placed += 1;
    if (call.status === 'completed') group.connected += 1;
    if (call.status === 'failed')
      group.failed[call.failure_reason!] = (group.failed[call.failure_reason!] ?? 0) + 1;
    group.talk_seconds += call.duration_seconds ?? 0;
    group.billed_seconds += call.billed_duration_seconds ?? 0;
  }
  return [...groups.values()].sort((a, b) => (a.key ?? '').localeCompare(b.key ?? ''));
}

const byKey = (groups: Group[]) => [...groups].sort((a, b) => (a.key ?? '').localeCompare(b.key ?? ''));

describe('GET /api/v1/usage: calls placed, connected, failed by reason, talk and billed seconds', () => {
  let sim: UltravoxSim;
  let t: TestApp;
  let receiver: Receiver;
  let agency: CallingAgency;
  let other: CallingAgency;
  let secondAgentId: string;
  let campaignId: string;
  let calls: CallRow[];
  const wide = {
    from: new Date(Date.now() - 2 * 24 * HOUR).toISOString(),
    to: new Date(Date.now() + 24 * HOUR).toISOString(),
  };

  const usage = (who: CallingAgency, query: Record<string, string>) =>
    request(t.url).get('/api/v1/usage').query(query).set('Authorization', `Bearer ${who.apiKey}`);

  beforeAll(async () => {
    ({ sim, t, receiver } = await startCallingStack({ timeScale: 0.02 }));
    agency = await callingAgency(t);
    other = await callingAgency(t);
    // The agency's time zone is its calling window's; the window is open but for one minute 12 h away.
    const closedAt = new Date(Date.now() + 12 * HOUR);
    await request(t.url)
      .patch('/api/v1/agency')
      .set('Authorization', agency.owner.auth)
      .send({
        calling_window: {
          timezone: ZONE,
          days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'],
          start: hhmm(new Date(closedAt.getTime() + 60_000), ZONE),
          end: hhmm(closedAt, ZONE),
        },
      })
      .expect(200);
    const second = await request(t.url)
      .post('/api/v1/agents')
      .set('Authorization', agency.owner.auth)
      .send({
        name: 'Second Agent',
        ultravox_agent_id: agency.ultravoxAgentId,
        phone_number: agency.callerId,
      })
      .expect(201);
    secondAgentId = second.body.data.id as string;

    const placed: string[] = [];
    for (const phone of ['+15557001001', '+15557001002', '+15557000000', '+15557000486']) {
      placed.push((await trigger(t, agency.apiKey, { phone }).expect(200)).body.call_id as string);
    }
    for (const phone of ['+15557002001', '+15557000500']) {
      const body = { phone, agent_id: secondAgentId };
      placed.push((await trigger(t, agency.apiKey, body).expect(200)).body.call_id as string);
    }
    await trigger(t, other.apiKey, { phone: '+15557009001' }).expect(200);
    const created = await request(t.url)
      .post('/api/v1/campaigns')
      .set('Authorization', agency.owner.auth)
      .send({ name: 'Usage promo', agent_id: secondAgentId })
      .expect(201);
    campaignId = created.body.data.id as string;
    await request(t.url)
      .post(`/api/v1/campaigns/${campaignId}/contacts`)
      .set('Authorization', agency.owner.auth)
      .send([{ phone: '+15557003001' }, { phone: '+15557003002' }])
      .expect(200);
    await request(t.url)
      .post(`/api/v1/campaigns/${campaignId}/start`)
      .set('Authorization', agency.owner.auth)
      .expect(200);

    // Every call ended and billed (or said not billed) by Ultravox, the other agency's too; billing
    // may be stored before the end is (call.billed and call.ended are processed side by side).
    const settled = (rows: CallRow[], n: number) =>
      rows.length === n &&
      rows.every(
        (c) =>
          (c.status === 'completed' || c.status === 'failed') &&
          c.billing_status !== null &&
          c.billing_status !== 'pending',
      ) &&
      rows;
    const list = async (who: CallingAgency) =>
      (
        await request(t.url)
          .get('/api/v1/calls')
          .query({ limit: 100 })
          .set('Authorization', `Bearer ${who.apiKey}`)
          .expect(200)
      ).body.data as CallRow[];
    calls = await waitFor(async () => settled(await list(agency), 8), 30_000, 'the calls to be billed');
    await waitFor(async () => settled(await list(other), 1), 30_000, "the other agency's call to be billed");
  });
  afterAll(() => stopCallingStack({ sim, t, receiver }));

  it('by day, in the agency time zone: the figures of the calls made, and nothing of another agency', async () => {
    const { body } = await usage(agency, { ...wide, group_by: 'day' }).expect(200);
    expect(body.data).toMatchObject({ group_by: 'day', time_zone: ZONE, from: wide.from, to: wide.to });
    expect(byKey(body.data.groups)).toEqual(expected(calls, (c) => localDay(new Date(c.created_at), ZONE)));
    expect(body.data.totals).toEqual({
      calls_placed: 8,
      connected: 5,
      failed: { no_answer: 1, busy: 1, connection_error: 1 },
      talk_seconds: expect.any(Number),
      billed_seconds: expect.any(Number),
    });
    expect(body.data.totals.billed_seconds).toBeGreaterThan(0);
    expect(body.data.totals.talk_seconds).toBe(calls.reduce((s, c) => s + (c.duration_seconds ?? 0), 0));
  });

  it('by agent and by campaign', async () => {
    const byAgent = await usage(agency, { ...wide, group_by: 'agent' }).expect(200);
    expect(byKey(byAgent.body.data.groups)).toEqual(expected(calls, (c) => c.agent_id));
    expect(byAgent.body.data.groups.find((g: Group) => g.key === secondAgentId)).toMatchObject({
      calls_placed: 4,
      connected: 3,
      failed: { connection_error: 1 },
    });
    const byCampaign = await usage(agency, { ...wide, group_by: 'campaign' }).expect(200);
    expect(byKey(byCampaign.body.data.groups)).toEqual(expected(calls, (c) => c.campaign_id));
    expect(byCampaign.body.data.groups.find((g: Group) => g.key === campaignId)).toMatchObject({
      calls_placed: 2,
      connected: 2,
      failed: {},
    });
  });

  it('a range tighter than a bucket counts the same calls, read from the calls themselves', async () => {
    const times = calls.map((c) => new Date(c.created_at).getTime());
    const tight = {
      from: new Date(Math.min(...times)).toISOString(),
      to: new Date(Math.max(...times) + 1).toISOString(),
    };
    for (const group_by of ['day', 'agent', 'campaign']) {
      const { body } = await usage(agency, { ...tight, group_by }).expect(200);
      expect(body.data.totals.calls_placed).toBe(8);
    }
    const first = await usage(agency, {
      from: tight.from,
      to: new Date(Math.min(...times) + 1).toISOString(),
    }).expect(200);
    expect(first.body.data.totals.calls_placed).toBe(times.filter((at) => at === Math.min(...times)).length);
  });

  it('format=csv answers the same as CSV, one row per group and a column per failure reason', async () => {
    const json = (await usage(agency, { ...wide, group_by: 'agent' }).expect(200)).body.data as {
      groups: Group[];
    };
    const res = await usage(agency, { ...wide, group_by: 'agent', format: 'csv' }).expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const [header, ...rows] = res.text
      .trimEnd()
      .split('\r\n')
      .map((line) => line.split(','));
    expect(header).toEqual([
      'agent_id',
      'calls_placed',
      'connected',
      'failed',
      'talk_seconds',
      'billed_seconds',
      'failed_busy',
      'failed_connection_error',
      'failed_no_answer',
    ]);
    expect(rows).toHaveLength(json.groups.length);
    for (const group of json.groups) {
      const row = rows.find((r) => r[0] === group.key)!;
      const failed = Object.values(group.failed).reduce((s, n) => s + n, 0);
      expect(row.slice(1).map(Number)).toEqual([
        group.calls_placed,
        group.connected,
        failed,
        group.talk_seconds,
        group.billed_seconds,
        group.failed.busy ?? 0,
        group.failed.connection_error ?? 0,
        group.failed.no_answer ?? 0,
      ]);
    }
    const days = await usage(agency, { ...wide, format: 'csv' }).expect(200);
    expect(days.text.split('\r\n')[0]).toMatch(/^day,calls_placed,/);
  });

  it('another agency sees only its own call; a member JWT reads too', async () => {
    const { body } = await usage(other, { ...wide, group_by: 'campaign' }).expect(200);
    expect(body.data.time_zone).toBe('UTC');
    expect(body.data.groups).toEqual([expect.objectContaining({ key: null, calls_placed: 1, connected: 1 })]);
    const member = await request(t.url)
      .get('/api/v1/usage')
      .query(wide)
      .set('Authorization', agency.member.auth)
      .expect(200);
    expect(member.body.data.totals.calls_placed).toBe(8);
  });

  it.each([
    ['to before from', { from: wide.to, to: wide.from }, 'to'],
    ['an empty range', { from: wide.from, to: wide.from }, 'to'],
    ['more than 366 days', { from: '2025-01-01T00:00:00Z', to: '2026-01-03T00:00:00Z' }, 'to'],
    ['a date that is not ISO 8601', { from: 'yesterday', to: wide.to }, 'from'],
    ['a missing to', { from: wide.from }, 'to'],
    ['an unknown group_by', { ...wide, group_by: 'hour' }, 'group_by'],
    ['an unknown format', { ...wide, format: 'xlsx' }, 'format'],
  ])('answers 400 validation_failed for %s', async (_label, query, field) => {
    const { body } = await usage(agency, query as Record<string, string>).expect(400);
    expect(body).toMatchObject({ success: false, error: { code: 'validation_failed' } });
    expect(body.error.details).toContainEqual(expect.objectContaining({ field }));
  });
});
