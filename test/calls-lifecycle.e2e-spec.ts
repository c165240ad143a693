import request from 'supertest';
import { Webhook } from 'standardwebhooks';
import { UltravoxSim } from '../tools/ultravox-sim/server';
import { callingAgency, CallingAgency, simCallsOf, subscribe, trigger } from './support/call-fixtures';
import { startCallingStack, stopCallingStack } from './support/calling-stack';
import { Receiver } from './support/receiver';
import { callQuiet } from './support/settled';
import { waitFor } from './support/wait';
import { TestApp } from './support/test-app';

type Payload = Record<string, unknown> & { event: string; call_id: string };

describe('a call end to end: trigger → Ultravox → webhooks → call.completed (CONTRACT §5.2, §5.3, §6)', () => {
  let sim: UltravoxSim;
  let t: TestApp;
  let receiver: Receiver;
  let agency: CallingAgency;
  let secret: string;

  beforeAll(async () => {
    ({ sim, t, receiver } = await startCallingStack({ timeScale: 0.02 }));
    agency = await callingAgency(t);
    secret = await subscribe(t, agency, `${receiver.url}/calls`);
  });
  afterAll(() => stopCallingStack({ sim, t, receiver }));

  const eventsFor = (callId: string) =>
    receiver.received.filter((r) => (JSON.parse(r.body) as Payload).call_id === callId);
  const ultravoxCallOf = (callId: string) =>
    sim.calls().calls.find((c) => c.call.metadata.switchboard_call_id === callId)!.call.callId;
  const terminal = (callId: string) =>
    waitFor(
      () => eventsFor(callId).find((r) => /call\.(completed|failed)/.test(JSON.parse(r.body).event)),
      20_000,
      'a terminal event',
    );

  it('dials through Ultravox and delivers a signed call.started then call.completed with every field', async () => {
    const metadata = { crm_id: 'lead-42', tags: ['vip'], nested: { score: 7 } };
    const res = await trigger(t, agency.apiKey, {
      phone: '+15551234567',
      name: 'Ada Lovelace',
      email: 'ada@example.com',
      metadata,
    }).expect(200);
    expect(res.body).toEqual({
      success: true,
      call_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      status: 'queued',
      missing_variables: [],
    });
    const callId = res.body.call_id as string;

    const done = await terminal(callId);
    const [created] = simCallsOf(sim, agency);
    expect(created.path).toBe(`/api/agents/${agency.ultravoxAgentId}/calls`);
    expect(created.body).toMatchObject({
      medium: { twilio: { outgoing: { to: '+15551234567', from: agency.callerId } } },
      templateContext: { name: 'Ada Lovelace', email: 'ada@example.com', phone: '+15551234567' },
      metadata: { switchboard_call_id: callId },
      firstSpeakerSettings: { user: expect.anything() },
    });

    const headers = (r: typeof done) => ({
      'webhook-id': String(r.headers['webhook-id']),
      'webhook-timestamp': String(r.headers['webhook-timestamp']),
      'webhook-signature': String(r.headers['webhook-signature']),
    });
    const completed = new Webhook(secret).verify(done.body, headers(done)) as Payload;
    expect(completed).toEqual({
      event: 'call.completed',
      event_id: expect.stringMatching(/^evt_/),
      timestamp: expect.any(String),
      call_id: callId,
      agent_id: agency.agentId,
      agent_name: 'Sales Agent',
      direction: 'outbound',
      phone_number: '+15551234567',
      name: 'Ada Lovelace',
      email: 'ada@example.com',
      duration_seconds: expect.any(Number),
      started_at: expect.any(String),
      ended_at: expect.any(String),
      sentiment: 'positive',
      summary: expect.any(String),
      transcript: expect.arrayContaining([
        { role: 'agent', content: expect.any(String), timestamp: expect.anything() },
        { role: 'human', content: expect.any(String), timestamp: expect.any(String) },
      ]),
      metadata,
      campaign_id: null,
      recording_url: null,
    });
    expect(JSON.stringify(completed.metadata)).toBe(JSON.stringify(metadata));
    expect(
      (completed.transcript as { role: string }[]).every(
        (turn) => turn.role === 'agent' || turn.role === 'human',
      ),
    ).toBe(true);

    const kinds = eventsFor(callId).map((r) => JSON.parse(r.body) as Payload);
    expect(kinds.filter((p) => p.event === 'call.started')).toHaveLength(1);
    expect(kinds.filter((p) => p.event === 'call.failed')).toHaveLength(0);
    const started = kinds.find((p) => p.event === 'call.started')!;
    expect(started).toMatchObject({ call_id: callId, started_at: expect.any(String), metadata });
    expect(Date.parse(started.timestamp as string)).toBeLessThanOrEqual(
      Date.parse(completed.timestamp as string),
    );

    const call = (
      await request(t.url).get(`/api/v1/calls/${callId}`).set('Authorization', agency.member.auth).expect(200)
    ).body.data;
    expect(call).toMatchObject({
      id: callId,
      status: 'completed',
      failure_reason: null,
      direction: 'outbound',
      ultravox_call_id: expect.any(String),
      sentiment: 'positive',
      transcript: completed.transcript,
      metadata,
    });
    expect(call.timeline.map((e: { event: string }) => e.event)).toEqual(
      expect.arrayContaining([
        'queued',
        'dialing',
        'call.started',
        'call.joined',
        'call.ended',
        'call.completed',
      ]),
    );
  });

  it('a call nobody answers ends with one call.failed (no_answer) and never a call.completed', async () => {
    const res = await trigger(t, agency.apiKey, { phone: '+15557770000' }).expect(200);
    const done = await terminal(res.body.call_id);
    const payload = JSON.parse(done.body) as Payload;
    expect(payload).toMatchObject({
      event: 'call.failed',
      failure_reason: 'no_answer',
      started_at: null,
      transcript: [],
    });
    await callQuiet(t, agency.agencyId, ultravoxCallOf(res.body.call_id));
    expect(eventsFor(res.body.call_id).map((r) => JSON.parse(r.body).event)).toEqual(['call.failed']);
  });

  it.each([
    ['busy', 'busy', '+15557770486'],
    ['connection error', 'connection_error', '+15557770500'],
  ])('a %s call ends failed with failure_reason %s', async (_, reason, phone) => {
    const res = await trigger(t, agency.apiKey, { phone }).expect(200);
    const done = await terminal(res.body.call_id);
    expect(JSON.parse(done.body)).toMatchObject({ event: 'call.failed', failure_reason: reason });
  });

  it('a negative conversation is reported with negative sentiment', async () => {
    const res = await trigger(t, agency.apiKey, { phone: '+15557770666' }).expect(200);
    const done = await terminal(res.body.call_id);
    expect(JSON.parse(done.body)).toMatchObject({ event: 'call.completed', sentiment: 'negative' });
  });

  it('a long call gets every transcript page', async () => {
    const res = await trigger(t, agency.apiKey, { phone: '+15557770999' }).expect(200);
    const done = await terminal(res.body.call_id);
    const transcript = (JSON.parse(done.body) as { transcript: unknown[] }).transcript;
    const simCall = sim.calls().calls.find((c) => c.call.metadata.switchboard_call_id === res.body.call_id)!;
    const pageSize = sim.options.messagesPageSize;
    expect(simCall.messagesTotal).toBeGreaterThan(2 * pageSize);
    // Every spoken agent and human line, across all pages (tool calls and results are not turns).
    const state = sim.state.findCall(simCall.call.callId)!.call;
    const turns = state.script.filter(
      (m) => m.role === 'MESSAGE_ROLE_AGENT' || m.role === 'MESSAGE_ROLE_USER',
    );
    expect(transcript).toHaveLength(turns.length);
  });

  it('duplicated and reordered Ultravox webhooks still give exactly one terminal event', async () => {
    const res = await trigger(t, agency.apiKey, { phone: '+15551239876' }).expect(200);
    const callId = res.body.call_id as string;
    await terminal(callId);
    const simCall = sim.calls().calls.find((c) => c.call.metadata.switchboard_call_id === callId)!;
    await sim.resend(simCall.call.callId, 'call.ended');
    await sim.resend(simCall.call.callId, 'call.joined');
    await sim.resend(simCall.call.callId, 'call.started');
    await callQuiet(t, agency.agencyId, simCall.call.callId);
    const events = eventsFor(callId)
      .map((r) => JSON.parse(r.body).event)
      .sort();
    expect(events).toEqual(['call.completed', 'call.started']);
  });
});
