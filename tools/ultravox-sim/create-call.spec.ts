import { startUltravoxSim, UltravoxCall, UltravoxSim } from './server';
import { api, apiKey, outgoingCall } from './spec-support';

describe('Ultravox simulator: POST /api/agents/{agentId}/calls', () => {
  let sim: UltravoxSim;
  const key = apiKey('createAA');

  // No-answer calls ring for joinTimeoutMs: long enough here that they stay live during a test.
  beforeAll(async () => {
    sim = await startUltravoxSim({ maxConcurrentCalls: 2, timings: { joinTimeoutMs: 60_000 } });
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.reset());

  const create = (body: unknown, agentId = 'agent-1', as = key) =>
    api<UltravoxCall & { detail?: string }>(`${sim.url}/api/agents/${agentId}/calls`, {
      method: 'POST',
      key: as,
      body,
    });

  it('answers 201 with the call as Ultravox describes it', async () => {
    const response = await create(
      outgoingCall('+15551230000', {
        metadata: { lead: '42' },
        templateContext: { customerName: 'Ana' },
        maxDuration: '600s',
        recordingEnabled: true,
      }),
      'f1e2d3c4-0000-4000-8000-000000000001',
    );
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({
      callId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      created: expect.any(String),
      joined: null,
      ended: null,
      endReason: null,
      billedDuration: null,
      shortSummary: null,
      summary: null,
      sipDetails: null,
      metadata: { lead: '42' },
      templateContext: { customerName: 'Ana' },
      medium: { twilio: { outgoing: { to: '+15551230000', from: '+15559876543' } } },
      agentId: 'f1e2d3c4-0000-4000-8000-000000000001',
      agent: { agentId: 'f1e2d3c4-0000-4000-8000-000000000001', name: 'Sim Agent f1e2d3c4' },
      maxDuration: '600s',
      joinTimeout: '30s',
      recordingEnabled: true,
    });
  });

  it.each([
    ['a body that is not an object', [1, 2]],
    ['no medium', { metadata: {} }],
    ['two providers', { medium: { twilio: { outgoing: {} }, plivo: { outgoing: {} } } }],
    ['a webRtc medium', { medium: { webRtc: {} } }],
    ['a callee that is not E.164', outgoingCall('5551234567')],
    ['a caller that is not E.164', { medium: { telnyx: { outgoing: { to: '+15551234567', from: '+0' } } } }],
    ['a non-string metadata value', outgoingCall('+15551234567', { metadata: { n: 1 } })],
    ['a reserved metadata key', outgoingCall('+15551234567', { metadata: { 'ultravox.x': 'y' } })],
    ['a templateContext that is a list', outgoingCall('+15551234567', { templateContext: [] })],
    ['a maxDuration without unit', outgoingCall('+15551234567', { maxDuration: '600' })],
    ['a non-boolean recordingEnabled', outgoingCall('+15551234567', { recordingEnabled: 'yes' })],
  ])('answers 400 with a detail for %s', async (_label, body) => {
    const response = await create(body);
    expect(response.status).toBe(400);
    expect(response.body.detail).toEqual(expect.any(String));
  });

  it('answers 404 for an agent id starting with 00000000', async () => {
    const response = await create(outgoingCall('+15551234567'), '00000000-0000-0000-0000-000000000000');
    expect(response).toMatchObject({ status: 404, body: { detail: 'Not found.' } });
  });

  it('answers 429 with Retry-After once the account has maxConcurrentCalls live calls', async () => {
    expect((await create(outgoingCall('+15551230000'))).status).toBe(201);
    expect((await create(outgoingCall('+15551230000'))).status).toBe(201);
    const refused = await create(outgoingCall('+15551230000'));
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.body.detail).toEqual(expect.any(String));

    const otherAccount = await create(outgoingCall('+15551230000'), 'agent-1', apiKey('createBB'));
    expect(otherAccount.status).toBe(201);
    const me = await api<{ activeCalls: number }>(`${sim.url}/api/accounts/me`, { key });
    expect(me.body.activeCalls).toBe(2);
    expect(sim.calls().accounts.find((account) => account.keyPrefix === 'createAA')).toMatchObject({
      liveCalls: 2,
      maxConcurrentLive: 2,
    });
  });

  it('takes an account’s allowedConcurrentCalls from the control API, on accounts/me and in the 429', async () => {
    const set = await api(`${sim.url}/_sim/accounts/concurrency`, {
      method: 'PUT',
      body: { apiKey: key, allowedConcurrentCalls: 1 },
    });
    expect(set.body).toMatchObject({ keyPrefix: 'createAA', allowedConcurrentCalls: 1 });
    const me = await api<{ allowedConcurrentCalls: number }>(`${sim.url}/api/accounts/me`, { key });
    expect(me.body.allowedConcurrentCalls).toBe(1);
    expect((await create(outgoingCall('+15551230000'))).status).toBe(201);
    const refused = await create(outgoingCall('+15551230000'));
    expect(refused.status).toBe(429);
    expect(refused.body.detail).toContain('allows 1');

    // Other accounts keep the simulator's maxConcurrentCalls; null gives the account it back.
    const other = await api<{ allowedConcurrentCalls: number }>(`${sim.url}/api/accounts/me`, {
      key: apiKey('createBB'),
    });
    expect(other.body.allowedConcurrentCalls).toBe(2);
    sim.setAllowedConcurrentCalls(key, null);
    expect((await create(outgoingCall('+15551230000'))).status).toBe(201);
  });

  it('refuses a control request without a valid key or with a negative limit (400)', async () => {
    const noKey = await api<{ detail: string }>(`${sim.url}/_sim/accounts/concurrency`, {
      method: 'PUT',
      body: { allowedConcurrentCalls: 1 },
    });
    expect(noKey.status).toBe(400);
    const negative = await api<{ detail: string }>(`${sim.url}/_sim/accounts/concurrency`, {
      method: 'PUT',
      body: { apiKey: key, allowedConcurrentCalls: -1 },
    });
    expect(negative.status).toBe(400);
  });
});
