import request, { Response } from 'supertest';
import { UltravoxSim } from '../tools/ultravox-sim/server';
import { callingAgency, CallingAgency, simCallsOf, subscribe, trigger } from './support/call-fixtures';
import { startCallingStack, stopCallingStack } from './support/calling-stack';
import { Receiver } from './support/receiver';
import { TestApp } from './support/test-app';
import { waitFor } from './support/wait';

type Payload = Record<string, unknown> & { event: string; call_id: string; recording_url: string | null };

/** supertest keeps a binary answer as a Buffer in `body`. */
function binary(res: Response, done: (err: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => done(null, Buffer.concat(chunks)));
}

/** What a WAV's RIFF header says about it. */
function riff(bytes: Buffer) {
  return {
    riff: bytes.subarray(0, 4).toString('ascii'),
    riffSize: bytes.readUInt32LE(4),
    wave: bytes.subarray(8, 12).toString('ascii'),
    dataBytes: bytes.readUInt32LE(40),
  };
}

describe('call recordings: record_calls, record, recording_url and GET /api/v1/calls/:id/recording (issue 15)', () => {
  let sim: UltravoxSim;
  let t: TestApp;
  let receiver: Receiver;
  let recorder: CallingAgency;
  let plain: CallingAgency;

  beforeAll(async () => {
    ({ sim, t, receiver } = await startCallingStack({ timeScale: 0.02 }, { RECORDING_LINK_TTL: '1h' }));
    recorder = await callingAgency(t, { record_calls: true });
    plain = await callingAgency(t);
    await subscribe(t, recorder, `${receiver.url}/recorder`);
    await subscribe(t, plain, `${receiver.url}/plain`);
  });
  afterAll(() => stopCallingStack({ sim, t, receiver }));
  afterEach(() => t.clock.release());

  const terminal = (callId: string) =>
    waitFor(
      () =>
        receiver.received
          .map((r) => JSON.parse(r.body) as Payload)
          .find((p) => p.call_id === callId && /^call\.(completed|failed)$/.test(p.event)),
      20_000,
      `a terminal event of ${callId}`,
    );
  /** The create-call body the simulator received for our call. */
  const created = (agency: CallingAgency, callId: string) =>
    simCallsOf(sim, agency).find(
      (r) => (r.body as { metadata: Record<string, string> }).metadata.switchboard_call_id === callId,
    )!.body as { recordingEnabled?: boolean };
  const recordedAtUltravox = (callId: string) => created(plain, callId).recordingEnabled;
  const ultravoxCall = (callId: string) =>
    sim.calls().calls.find((c) => c.call.metadata.switchboard_call_id === callId)!.call;
  const placeCall = async (agency: CallingAgency, body: object = {}) => {
    const res = await trigger(t, agency.apiKey, { phone: '+15552223333', ...body }).expect(200);
    const callId = res.body.call_id as string;
    return { callId, payload: await terminal(callId) };
  };
  const readCall = async (auth: string, callId: string) =>
    (await request(t.url).get(`/api/v1/calls/${callId}`).set('Authorization', auth).expect(200)).body.data;
  /** The error code the recording route answers this agency with. */
  const refusal = async (agency: CallingAgency, callId: string, status: number) =>
    (
      await request(t.url)
        .get(`/api/v1/calls/${callId}/recording`)
        .set('Authorization', `Bearer ${agency.apiKey}`)
        .expect(status)
    ).body.error.code as string;
  const getLink = (url: string) => request(url).get('').buffer(true).parse(binary);
  const getRecording = (agency: CallingAgency, callId: string, range?: string) => {
    const req = request(t.url)
      .get(`/api/v1/calls/${callId}/recording`)
      .set('Authorization', `Bearer ${agency.apiKey}`)
      .buffer(true)
      .parse(binary);
    return range === undefined ? req : req.set('Range', range);
  };

  it("an agent that records: Ultravox is asked to record, and call.completed's recording_url downloads the WAV without credentials", async () => {
    const { callId, payload } = await placeCall(recorder);
    expect(created(recorder, callId).recordingEnabled).toBe(true);
    expect(payload.event).toBe('call.completed');
    const link = new URL(payload.recording_url!);
    expect(`${link.origin}${link.pathname}`).toBe(`${t.url}/api/v1/recordings/${callId}`);
    expect([...link.searchParams.keys()].sort()).toEqual(['expires', 'signature']);
    expect(payload.recording_url).not.toContain(sim.url);

    const res = await getLink(payload.recording_url!).expect(200);
    expect(res.headers['content-type']).toBe('audio/wav');
    expect(res.headers['accept-ranges']).toBe('bytes');
    expect(res.headers.location).toBeUndefined();
    const bytes = res.body as Buffer;
    expect(Number(res.headers['content-length'])).toBe(bytes.length);
    const billedSeconds = Number.parseFloat(ultravoxCall(callId).billedDuration!);
    expect(riff(bytes)).toEqual({
      riff: 'RIFF',
      riffSize: bytes.length - 8,
      wave: 'WAVE',
      dataBytes: billedSeconds * 16_000,
    });
    expect(bytes.length).toBe(44 + billedSeconds * 16_000);
    // The file host behind Ultravox's 302 never saw the agency's Ultravox key.
    const fetched = sim.recordingDownloads().filter((d) => d.callId === ultravoxCall(callId).callId);
    expect(fetched.length).toBeGreaterThan(0);
    expect(fetched.every((d) => d.headers['x-api-key'] === undefined)).toBe(true);
  });

  it('the link works until RECORDING_LINK_TTL has passed, then answers 403; an altered link answers 401', async () => {
    const { payload } = await placeCall(recorder);
    const url = payload.recording_url!;
    const expires = Number(new URL(url).searchParams.get('expires'));
    await getLink(url).expect(200);

    const tampered = new URL(url);
    tampered.searchParams.set('expires', String(expires + 3600));
    const altered = await request(tampered.toString()).get('').expect(401);
    expect(altered.body.error.code).toBe('invalid_recording_link');
    const unsigned = await request(`${t.url}${new URL(url).pathname}`)
      .get('')
      .expect(401);
    expect(unsigned.body.error.code).toBe('invalid_recording_link');

    t.clock.freeze(expires * 1000 - 1000);
    await getLink(url).expect(200);
    t.clock.freeze(expires * 1000);
    const expired = await request(url).get('').expect(403);
    expect(expired.body).toMatchObject({ success: false, error: { code: 'recording_link_expired' } });
  });

  it('the authenticated route streams the recording with ranges: 206 with Content-Range and exactly those bytes, 416 past the end', async () => {
    const { callId } = await placeCall(recorder);
    const whole = await getRecording(recorder, callId).expect(200);
    const bytes = whole.body as Buffer;
    expect(whole.headers['content-type']).toBe('audio/wav');
    expect(Number(whole.headers['content-length'])).toBe(bytes.length);
    expect(riff(bytes).wave).toBe('WAVE');

    const part = await getRecording(recorder, callId, 'bytes=100-1123').expect(206);
    expect(part.headers['content-range']).toBe(`bytes 100-1123/${bytes.length}`);
    expect(part.headers['content-length']).toBe('1024');
    expect(part.body).toEqual(bytes.subarray(100, 1124));

    const tail = await getRecording(recorder, callId, 'bytes=-16').expect(206);
    expect(tail.headers['content-range']).toBe(
      `bytes ${bytes.length - 16}-${bytes.length - 1}/${bytes.length}`,
    );
    expect(tail.body).toEqual(bytes.subarray(bytes.length - 16));

    const past = await request(t.url)
      .get(`/api/v1/calls/${callId}/recording`)
      .set('Authorization', `Bearer ${recorder.apiKey}`)
      .set('Range', `bytes=${bytes.length}-`)
      .expect(416);
    expect(past.headers['content-range']).toBe(`bytes */${bytes.length}`);
    expect(past.body.error.code).toBe('range_not_satisfiable');

    // A dashboard user (JWT, any role) reads it too.
    const member = await request(t.url)
      .get(`/api/v1/calls/${callId}/recording`)
      .set('Authorization', recorder.member.auth)
      .buffer(true)
      .parse(binary)
      .expect(200);
    expect(Buffer.compare(member.body as Buffer, bytes)).toBe(0);

    // The calls API hands out a fresh link that serves the same audio.
    const call = await readCall(recorder.member.auth, callId);
    expect(call.recording_url).toMatch(new RegExp(`^${t.url}/api/v1/recordings/${callId}\\?`));
    expect(Buffer.compare((await getLink(call.recording_url).expect(200)).body as Buffer, bytes)).toBe(0);
    const listed = await request(t.url)
      .get('/api/v1/calls')
      .set('Authorization', `Bearer ${recorder.apiKey}`)
      .expect(200);
    expect(listed.body.data.find((c: { id: string }) => c.id === callId).recording_url).toEqual(
      expect.any(String),
    );
  });

  it('follows a redirect off Ultravox only to a public https address: a 302 into the private network answers 502 and is never fetched', async () => {
    const { callId } = await placeCall(recorder);
    const path = `/api/calls/${ultravoxCall(callId).callId}/recording`;
    const inside = `${receiver.url}/metadata`.replace('http://', '');
    for (const location of [
      `http://${inside}`,
      `https://${inside}`,
      'https://169.254.169.254/latest/meta-data',
    ]) {
      sim.addFault({ path, status: 302, headers: { Location: location }, times: 1 });
      const res = await request(t.url)
        .get(`/api/v1/calls/${callId}/recording`)
        .set('Authorization', `Bearer ${recorder.apiKey}`)
        .expect(502);
      expect(res.body.error).toMatchObject({ code: 'ultravox_unavailable' });
      expect(res.body.error.message).toContain('does not follow');
    }
    // Ultravox's own redirect (to itself, here) is still followed.
    const res = await getRecording(recorder, callId).expect(200);
    expect(riff(res.body as Buffer).riff).toBe('RIFF');
    expect(receiver.received.filter((r) => r.path.startsWith('/metadata'))).toEqual([]);
  });

  it("another agency's call answers 404 on the recording route", async () => {
    const { callId } = await placeCall(recorder);
    expect(await refusal(plain, callId, 404)).toBe('call_not_found');
  });

  it('a call not recorded: recording_url is null in call.completed and the calls API, and the route answers 404', async () => {
    const { callId, payload } = await placeCall(plain);
    expect(created(plain, callId).recordingEnabled).toBe(false);
    expect(payload).toMatchObject({ event: 'call.completed', recording_url: null });
    expect((await readCall(`Bearer ${plain.apiKey}`, callId)).recording_url).toBeNull();
    expect(await refusal(plain, callId, 404)).toBe('recording_not_found');
  });

  it('a call that never connected has no recording even when recorded: recording_url null in call.failed', async () => {
    const res = await trigger(t, recorder.apiKey, { phone: '+15557770000' }).expect(200);
    const payload = await terminal(res.body.call_id);
    expect(payload).toMatchObject({ event: 'call.failed', failure_reason: 'no_answer', recording_url: null });
    expect(await refusal(recorder, res.body.call_id, 404)).toBe('recording_not_found');
  });

  it("record on trigger-call overrides the agent's record_calls, both ways", async () => {
    const off = await placeCall(recorder, { record: false });
    expect(created(recorder, off.callId).recordingEnabled).toBe(false);
    expect(off.payload.recording_url).toBeNull();

    const on = await placeCall(plain, { record: true });
    expect(created(plain, on.callId).recordingEnabled).toBe(true);
    expect(on.payload.recording_url).toEqual(expect.any(String));
    await getLink(on.payload.recording_url!).expect(200);
  });

  it("a campaign's record overrides its agent's record_calls for every call it places", async () => {
    const created = await request(t.url)
      .post('/api/v1/campaigns')
      .set('Authorization', `Bearer ${plain.apiKey}`)
      .send({ name: 'Recorded promo', record: true })
      .expect(201);
    const id = created.body.data.id as string;
    expect(created.body.data.record).toBe(true);
    const phones = ['+15553331001', '+15553331002'];
    await request(t.url)
      .post(`/api/v1/campaigns/${id}/contacts`)
      .set('Authorization', `Bearer ${plain.apiKey}`)
      .send(phones.map((phone) => ({ phone })))
      .expect(200);
    await request(t.url)
      .post(`/api/v1/campaigns/${id}/start`)
      .set('Authorization', `Bearer ${plain.apiKey}`)
      .expect(200);
    const done = await waitFor(
      () => {
        const ended = receiver.received
          .map((r) => JSON.parse(r.body) as Payload & { campaign_id: string | null })
          .filter((p) => p.campaign_id === id && p.event === 'call.completed');
        return ended.length === phones.length && ended;
      },
      20_000,
      "the campaign's calls to complete",
    );
    for (const payload of done) {
      expect(recordedAtUltravox(payload.call_id)).toBe(true);
      expect(payload.recording_url).toEqual(expect.any(String));
    }
  });

  it('record_calls is shown and changed on the agent; PATCH without it keeps it', async () => {
    const agent = await request(t.url)
      .get(`/api/v1/agents/${recorder.agentId}`)
      .set('Authorization', recorder.owner.auth)
      .expect(200);
    expect(agent.body.data.record_calls).toBe(true);
    const patch = (body: object, status: number) =>
      request(t.url)
        .patch(`/api/v1/agents/${recorder.agentId}`)
        .set('Authorization', recorder.owner.auth)
        .send(body)
        .expect(status);
    expect((await patch({ name: 'Renamed' }, 200)).body.data.record_calls).toBe(true);
    const bad = await patch({ record_calls: 'yes' }, 400);
    expect(bad.body.error.details).toEqual([{ field: 'record_calls', message: expect.any(String) }]);
    const badTrigger = await trigger(t, recorder.apiKey, { phone: '+15552223333', record: 'yes' }).expect(
      400,
    );
    expect(badTrigger.body.error.details).toEqual([
      { field: 'record', message: 'record must be a boolean value' },
    ]);
  });
});
