import { Page } from './pagination';
import { CallStage, startUltravoxSim, UltravoxCall, UltravoxMessage, UltravoxSim } from './server';
import { api, apiKey, outgoingCall, waitFor } from './spec-support';

const seconds = (duration: string): number => Number.parseFloat(duration);

describe('Ultravox simulator: call stages, message modes, wall-clock offsets, late summaries', () => {
  let sim: UltravoxSim;
  const key = apiKey('stagesAA');

  beforeAll(async () => {
    sim = await startUltravoxSim({
      timeScale: 0.01,
      maxConcurrentCalls: 50,
      timings: { summaryDelayMs: 300 },
    });
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.reset());

  const createCall = async (to: string): Promise<string> => {
    const created = await api<UltravoxCall>(`${sim.url}/api/agents/agent-1/calls`, {
      method: 'POST',
      key,
      body: outgoingCall(to),
    });
    expect(created.status).toBe(201);
    return created.body.callId;
  };
  const ended = (callId: string) =>
    waitFor('the call to end', () => Boolean(sim.state.findCall(callId)?.call.call.ended), 5_000);
  const messages = async (path: string) => {
    const page = await api<Page<UltravoxMessage>>(`${sim.url}${path}`, { key });
    expect(page.status).toBe(200);
    return page.body.results;
  };

  it('a call whose agent changes stage lists only its last stage by default, and every stage with mode=in_call', async () => {
    const callId = await createCall('+15551230202');
    await ended(callId);

    const all = await messages(`/api/calls/${callId}/messages?mode=in_call`);
    const last = await messages(`/api/calls/${callId}/messages`);
    expect(await messages(`/api/calls/${callId}/messages?mode=last_stage`)).toEqual(last);

    const stageIds = [...new Set(all.map((message) => message.callStageId))];
    expect(stageIds).toHaveLength(2);
    expect(last.length).toBeGreaterThan(0);
    expect(last.length).toBeLessThan(all.length);
    expect(last.every((message) => message.callStageId === stageIds[1])).toBe(true);
    for (const stageId of stageIds) {
      const ofStage = all.filter((message) => message.callStageId === stageId);
      expect(ofStage.map((message) => message.callStageMessageIndex)).toEqual(
        ofStage.map((_, index) => index),
      );
    }
    expect(all.some((message) => message.toolName === 'changeStage')).toBe(true);

    const stages = (await api<Page<CallStage>>(`${sim.url}/api/calls/${callId}/stages`, { key })).body;
    expect(stages.results.map((stage) => stage.callStageId)).toEqual(stageIds);
    expect(await messages(`/api/calls/${callId}/stages/${stageIds[0]}/messages`)).toEqual(
      all.filter((message) => message.callStageId === stageIds[0]),
    );
  });

  it('answers 400 for an unknown mode and 404 for a stage of another call', async () => {
    const callId = await createCall('+15551230202');
    const bad = await api(`${sim.url}/api/calls/${callId}/messages?mode=everything`, { key });
    expect(bad.status).toBe(400);
    const unknown = await api(`${sim.url}/api/calls/${callId}/stages/not-a-stage/messages`, { key });
    expect(unknown).toMatchObject({ status: 404, body: { detail: 'Not found.' } });
  });

  it('wall-clock offsets stay within joined..ended while audio offsets run longer', async () => {
    const callId = await createCall('+15551234567');
    await ended(callId);
    const call = sim.state.findCall(callId)!.call.call;
    const length = (Date.parse(call.ended!) - Date.parse(call.joined!)) / 1000;
    const spoken = await messages(`/api/calls/${callId}/messages?mode=in_call`);
    expect(spoken[0].wallClockTimespan).toBeUndefined();
    const timed = spoken.slice(1);
    for (const message of timed) {
      const clock = message.wallClockTimespan!;
      expect(seconds(clock.start)).toBeGreaterThanOrEqual(0);
      expect(seconds(clock.start)).toBeLessThanOrEqual(seconds(clock.end));
      expect(seconds(clock.end)).toBeLessThanOrEqual(length);
    }
    expect(seconds(timed[timed.length - 1].timespan!.end)).toBeGreaterThan(length);
  });

  it('late_summary writes the summary only some time after call.ended; no_summary never does', async () => {
    const late = await createCall('+15551230303');
    const never = await createCall('+15551230304');
    await ended(late);
    await ended(never);
    const read = async (callId: string) =>
      (await api<UltravoxCall>(`${sim.url}/api/calls/${callId}`, { key })).body;
    expect(await read(late)).toMatchObject({ summary: null, shortSummary: null });
    await waitFor('the late summary', () => sim.state.findCall(late)!.call.call.summary !== null, 5_000);
    expect(await read(late)).toMatchObject({ summary: expect.any(String), shortSummary: expect.any(String) });
    await waitFor(
      'the no_summary call to be billed',
      () => sim.state.findCall(never)!.call.phase === 'billed',
      5_000,
    );
    expect(await read(never)).toMatchObject({
      summary: null,
      shortSummary: null,
      joined: expect.any(String),
    });
  });

  it('hold-ends keeps calls that finished speaking live until release-ends ends them all', async () => {
    const held = await api(`${sim.url}/_sim/hold-ends`, { method: 'POST' });
    expect(held.status).toBe(204);
    const ids = [await createCall('+15551234567'), await createCall('+15551230202')];
    const calls = () => ids.map((id) => sim.state.findCall(id)!.call);
    await waitFor(
      'both calls to finish speaking',
      () => calls().every((c) => c.spoken === c.script.length),
      5_000,
    );
    expect(calls().map((c) => c.call.ended)).toEqual([null, null]);

    const released = await api<{ released: number }>(`${sim.url}/_sim/release-ends`, {
      method: 'POST',
      body: { spreadMs: 50 },
    });
    expect(released.body).toEqual({ released: 2 });
    await Promise.all(ids.map(ended));
    expect(calls().map((c) => c.call.endReason)).toEqual(['hangup', 'hangup']);
    const bad = await api(`${sim.url}/_sim/release-ends`, { method: 'POST', body: { spreadMs: -1 } });
    expect(bad.status).toBe(400);
  });
});
