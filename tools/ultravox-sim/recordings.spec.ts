import { startUltravoxSim, UltravoxCall, UltravoxSim } from './server';
import { api, apiKey, outgoingCall, waitFor } from './spec-support';

describe('Ultravox simulator: GET /api/calls/{id}/recording', () => {
  let sim: UltravoxSim;
  const key = apiKey('recordAA');

  beforeAll(async () => {
    sim = await startUltravoxSim({ timeScale: 0.01 });
  });
  afterAll(() => sim.close());

  const ended = async (to: string, recordingEnabled: boolean): Promise<UltravoxCall> => {
    const created = await api<UltravoxCall>(`${sim.url}/api/agents/agent-1/calls`, {
      method: 'POST',
      key,
      body: outgoingCall(to, { recordingEnabled }),
    });
    const { callId } = created.body;
    await waitFor('the call to end', () =>
      sim.calls().calls.some((c) => c.call.callId === callId && c.call.ended !== null),
    );
    return sim.calls().calls.find((c) => c.call.callId === callId)!.call;
  };
  const recording = (callId: string, headers: Record<string, string> = {}) =>
    fetch(`${sim.url}/api/calls/${callId}/recording`, {
      headers: { 'x-api-key': key, ...headers },
      redirect: 'manual',
    });

  it('a recorded call that connected: 302 to a file that needs no key, a WAV as long as the call', async () => {
    const call = await ended('+15551231111', true);
    const answer = await recording(call.callId);
    expect(answer.status).toBe(302);
    const location = answer.headers.get('location')!;
    expect(location).toContain(`/_sim/recording-files/${call.callId}.wav?token=`);

    const file = await fetch(location);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('audio/wav');
    const bytes = Buffer.from(await file.arrayBuffer());
    expect(Number(file.headers.get('content-length'))).toBe(bytes.length);
    expect(bytes.subarray(0, 4).toString('ascii')).toBe('RIFF');
    expect(bytes.subarray(8, 12).toString('ascii')).toBe('WAVE');
    expect(bytes.readUInt32LE(4)).toBe(bytes.length - 8);
    expect(bytes.readUInt32LE(40)).toBe(Number.parseFloat(call.billedDuration!) * 16_000);
    expect(sim.recordingDownloads().at(-1)).toMatchObject({ callId: call.callId });
    expect(sim.recordingDownloads().at(-1)!.headers['x-api-key']).toBeUndefined();
  });

  it('the file answers ranges: 206 with Content-Range and exactly those bytes; 416 past the end', async () => {
    const call = await ended('+15551231112', true);
    const location = (await recording(call.callId)).headers.get('location')!;
    const whole = Buffer.from(await (await fetch(location)).arrayBuffer());

    const part = await fetch(location, { headers: { range: 'bytes=40-1039' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 40-1039/${whole.length}`);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(whole.subarray(40, 1040));

    const tail = await fetch(location, { headers: { range: 'bytes=-10' } });
    expect(Buffer.from(await tail.arrayBuffer())).toEqual(whole.subarray(whole.length - 10));

    const past = await fetch(location, { headers: { range: `bytes=${whole.length}-` } });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${whole.length}`);
  });

  it('404 for a call not recorded or one that never connected; 403 for a bad file token', async () => {
    expect((await recording((await ended('+15551231113', false)).callId)).status).toBe(404);
    expect((await recording((await ended('+15557770000', true)).callId)).status).toBe(404);
    const location = (await recording((await ended('+15551231114', true)).callId)).headers.get('location')!;
    expect((await fetch(location.replace(/token=.*/, 'token=forged'))).status).toBe(403);
  });

  it('recordingBytes sets the size of every recording (the benchmark asks for 10 MB)', async () => {
    const big = await startUltravoxSim({ timeScale: 0.01, recordingBytes: 1_000_000 });
    try {
      const created = await api<UltravoxCall>(`${big.url}/api/agents/agent-1/calls`, {
        method: 'POST',
        key,
        body: outgoingCall('+15551231115', { recordingEnabled: true }),
      });
      const { callId } = created.body;
      await waitFor('the call to end', () =>
        big.calls().calls.some((c) => c.call.callId === callId && c.call.ended !== null),
      );
      const answer = await fetch(`${big.url}/api/calls/${callId}/recording`, {
        headers: { 'x-api-key': key },
      });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-length')).toBe(String(1_000_044));
      expect((await answer.arrayBuffer()).byteLength).toBe(1_000_044);
    } finally {
      await big.close();
    }
  });
});
