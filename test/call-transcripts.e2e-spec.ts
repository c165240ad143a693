import request from 'supertest';
import { CallReconciler } from '../src/calls/lifecycle/call-reconciler';
import { UltravoxSim } from '../tools/ultravox-sim/server';
import { callingAgency, CallingAgency, subscribe, trigger } from './support/call-fixtures';
import { startCallingStack, stopCallingStack } from './support/calling-stack';
import { Receiver } from './support/receiver';
import { TestApp } from './support/test-app';
import { waitFor } from './support/wait';

type Turn = { role: string; content: string; timestamp: string | null };
type Payload = Record<string, unknown> & { event: string; call_id: string; transcript?: Turn[] };
type TimelineEntry = { source: string; event: string; detail: string | null };

/** A late summary is written this long after the end: well inside CALLS_SUMMARY_WAIT. */
const SUMMARY_DELAY_MS = 600;
const SUMMARY_WAIT = '3s';

describe('transcripts and summaries as Ultravox means them (issue 13 point 3, CONTRACT §6)', () => {
  let sim: UltravoxSim;
  let t: TestApp;
  let receiver: Receiver;
  let agency: CallingAgency;

  beforeAll(async () => {
    ({ sim, t, receiver } = await startCallingStack(
      { timeScale: 0.02, timings: { summaryDelayMs: SUMMARY_DELAY_MS } },
      { CALLS_SUMMARY_WAIT: SUMMARY_WAIT },
    ));
    agency = await callingAgency(t);
    await subscribe(t, agency, `${receiver.url}/calls`);
  });
  afterEach(() => t.clock.release());
  afterAll(() => stopCallingStack({ sim, t, receiver }));

  const payloadsFor = (callId: string) =>
    receiver.received.map((r) => JSON.parse(r.body) as Payload).filter((p) => p.call_id === callId);
  const received = (callId: string, event: string) =>
    waitFor(() => payloadsFor(callId).find((p) => p.event === event), 20_000, `${event} for ${callId}`);
  const place = async (phone: string) =>
    (await trigger(t, agency.apiKey, { phone, name: 'Ada' }).expect(200)).body.call_id as string;
  const simCallOf = (callId: string) =>
    waitFor(
      () => sim.calls().calls.find((c) => c.call.metadata.switchboard_call_id === callId),
      10_000,
      'the Ultravox call',
    );
  const callOf = async (callId: string) =>
    (await request(t.url).get(`/api/v1/calls/${callId}`).set('Authorization', agency.member.auth).expect(200))
      .body.data as Record<string, unknown> & { transcript: Turn[]; timeline: TimelineEntry[] };
  /** The agent and human lines Ultravox has for the call, every stage, in order. */
  const spokenLines = (ultravoxCallId: string) =>
    sim.state
      .findCall(ultravoxCallId)!
      .call.script.filter((m) => m.role === 'MESSAGE_ROLE_AGENT' || m.role === 'MESSAGE_ROLE_USER')
      .map((m) => m.text);
  const reReadsOf = (ultravoxCallId: string) =>
    sim.requests().filter((r) => r.method === 'GET' && r.path === `/api/calls/${ultravoxCallId}`).length;

  const expectWithinCall = (payload: Payload) => {
    const startedAt = Date.parse(payload.started_at as string);
    const endedAt = Date.parse(payload.ended_at as string);
    expect(payload.transcript!.length).toBeGreaterThan(0);
    for (const turn of payload.transcript!) {
      const at = Date.parse(turn.timestamp!);
      expect({ turn: turn.content, afterStart: at >= startedAt, beforeEnd: at <= endedAt }).toEqual({
        turn: turn.content,
        afterStart: true,
        beforeEnd: true,
      });
    }
  };

  it('a call whose agent changes stage has the transcript of both stages, in call.completed and in the API', async () => {
    const callId = await place('+15557770202');
    const completed = await received(callId, 'call.completed');
    const ultravoxCallId = (await simCallOf(callId)).call.callId;
    const stages = sim.state.findCall(ultravoxCallId)!.call.stages;
    expect(stages).toHaveLength(2);

    expect(completed.transcript!.map((turn) => turn.content)).toEqual(spokenLines(ultravoxCallId));
    expect(completed.transcript!.map((turn) => turn.role)).toEqual([
      'agent',
      'human',
      'agent',
      'agent',
      'human',
      'agent',
    ]);
    const call = await callOf(callId);
    expect(call.transcript).toEqual(completed.transcript);
    // Ultravox's default (last stage only) would have cut the first stage's lines.
    const transcriptReads = sim
      .requests()
      .filter((r) => r.path === `/api/calls/${ultravoxCallId}/messages`)
      .map((r) => r.query.mode);
    expect(transcriptReads).toEqual(['in_call']);
  });

  it('a transcript line Postgres cannot store as sent (NUL, a lone surrogate) is stored with U+FFFD, and the call completes', async () => {
    // Ultravox holds the call's end, so its lines can be changed before they are read back.
    await fetch(`${sim.url}/_sim/hold-ends`, { method: 'POST' });
    const callId = await place('+15557770999');
    const script = sim.state.findCall((await simCallOf(callId)).call.callId)!.call.script;
    const line = script.find((m) => m.role === 'MESSAGE_ROLE_AGENT')!;
    line.text = 'Hello\u0000there \ud800!';
    await fetch(`${sim.url}/_sim/release-ends`, { method: 'POST' });

    const completed = await received(callId, 'call.completed');
    expect(completed.transcript!.map((turn) => turn.content)).toContain('Hello\uFFFDthere \uFFFD!');
    const call = await callOf(callId);
    expect(call.status).toBe('completed');
    expect(call.transcript).toEqual(completed.transcript);
  });

  it('every transcript timestamp lies between started_at and ended_at, even when audio offsets run longer', async () => {
    for (const phone of ['+15557770202', '+15557770999', '+15557771234']) {
      const callId = await place(phone);
      const completed = await received(callId, 'call.completed');
      const ultravoxCallId = (await simCallOf(callId)).call.callId;
      const { call, script } = sim.state.findCall(ultravoxCallId)!.call;
      // The audio stream's offsets end after the call did: they are not the time base.
      const audioEnd = Date.parse(call.joined!) + 1000 * Number.parseFloat(script.at(-1)!.timespan!.end);
      expect(audioEnd).toBeGreaterThan(Date.parse(call.ended!));
      expectWithinCall(completed);
      expect((await callOf(callId)).transcript).toEqual(completed.transcript);
    }
  });

  it('a summary Ultravox writes after call.ended is waited for and carried by call.completed', async () => {
    const callId = await place('+15557770303');
    const completed = await received(callId, 'call.completed');
    const ultravoxCallId = (await simCallOf(callId)).call.callId;
    const sent = JSON.parse(sim.state.findCall(ultravoxCallId)!.call.sentBodies.get('call.ended')!) as {
      call: { summary: string | null };
    };
    expect(sent.call.summary).toBeNull();

    const written = sim.state.findCall(ultravoxCallId)!.call.call.summary;
    expect(written).toEqual(expect.stringMatching(/\S/));
    expect(completed.summary).toBe(written);
    expect(reReadsOf(ultravoxCallId)).toBeGreaterThanOrEqual(1);
    expect(await callOf(callId)).toMatchObject({ status: 'completed', summary: written });
    expect(payloadsFor(callId).filter((p) => p.event === 'call.completed')).toHaveLength(1);
  });

  it('a summary that never comes: call.completed after CALLS_SUMMARY_WAIT with a null summary, once', async () => {
    const callId = await place('+15557770304');
    const completed = await received(callId, 'call.completed');
    const ultravoxCallId = (await simCallOf(callId)).call.callId;

    expect(completed).toMatchObject({ summary: null, sentiment: 'positive' });
    expect(completed.transcript!.length).toBeGreaterThan(0);
    // It kept reading the call at growing intervals until the wait was over (3 s: 0.25, 0.75, 1.75, 3 s).
    expect(reReadsOf(ultravoxCallId)).toBeGreaterThanOrEqual(4);
    const call = await callOf(callId);
    expect(call).toMatchObject({ status: 'completed', summary: null });
    expect(call.timeline).toContainEqual(
      expect.objectContaining({ event: 'call.completed', detail: expect.stringMatching(/no summary 3 s/) }),
    );
    expect(payloadsFor(callId).filter((p) => /call\.(completed|failed)/.test(p.event))).toHaveLength(1);
  });

  it('reconciliation waits for a late summary through the same path', async () => {
    const callId = await place('+15557770303');
    const ultravoxCallId = (await simCallOf(callId)).call.callId;
    sim.dropWebhooks({ event: 'call.ended', callId: ultravoxCallId });
    await received(callId, 'call.started');
    await waitFor(() => sim.state.findCall(ultravoxCallId)?.call.phase === 'billed', 20_000, 'the end');
    expect(sim.state.findCall(ultravoxCallId)!.call.call.summary).toBeNull();

    // Past CALLS_RECONCILE_AFTER (2m): the clock stays there until the call is completed.
    t.clock.freeze(Date.now() + 3 * 60_000);
    await t.app.get(CallReconciler).sweep();
    const completed = await received(callId, 'call.completed');
    expect(completed.summary).toBe(sim.state.findCall(ultravoxCallId)!.call.call.summary);
    expect(completed.summary).toEqual(expect.stringMatching(/\S/));
    const call = await callOf(callId);
    expect(call.timeline).toContainEqual(
      expect.objectContaining({ event: 'call.completed', detail: expect.stringMatching(/reconciliation/) }),
    );
    expect(payloadsFor(callId).filter((p) => /call\.(completed|failed)/.test(p.event))).toHaveLength(1);
  });
});
