import { Fault, RecordedRequest, startUltravoxSim, UltravoxSim } from './server';
import { api, apiKey, outgoingCall } from './spec-support';

describe('Ultravox simulator: faults and the control API', () => {
  let sim: UltravoxSim;
  const key = apiKey('faultsAA');
  const createUrl = (): string => `${sim.url}/api/agents/agent-1/calls`;
  const create = () => api(createUrl(), { method: 'POST', key, body: outgoingCall('+15551230000') });

  beforeAll(async () => {
    sim = await startUltravoxSim({ timeScale: 0.005 });
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.reset());

  it('answers the next matching request with an injected 503, once', async () => {
    const armed = await api<Fault>(`${sim.url}/_sim/faults`, {
      method: 'POST',
      body: { method: 'POST', path: '/api/agents/*', status: 503, headers: { 'Retry-After': '2' } },
    });
    expect(armed.status).toBe(201);

    const list = await api(`${sim.url}/api/calls`, { key });
    expect(list.status).toBe(200);
    const failed = await create();
    expect(failed.status).toBe(503);
    expect(failed.headers.get('retry-after')).toBe('2');
    expect(failed.body).toEqual({ detail: expect.any(String) });
    expect((await create()).status).toBe(201);
  });

  it('takes faults programmatically, with a custom body and a count, and clears them', async () => {
    sim.addFault({ path: '/api/calls', status: 500, body: { detail: 'boom' }, times: 2 });
    expect(await api(`${sim.url}/api/calls`, { key })).toMatchObject({
      status: 500,
      body: { detail: 'boom' },
    });
    expect(sim.faults()).toEqual([expect.objectContaining({ remaining: 1 })]);
    sim.clearFaults();
    expect((await api(`${sim.url}/api/calls`, { key })).status).toBe(200);
    expect(() => sim.addFault({ path: 'no-slash', status: 500 })).toThrow(/path/);
  });

  it('answers with a fault only the requests of the key it names (keyPrefix)', async () => {
    const other = apiKey('faultsBB');
    sim.addFault({ path: '/api/accounts/me', status: 429, keyPrefix: other.slice(0, 8) });
    expect((await api(`${sim.url}/api/accounts/me`, { key })).status).toBe(200);
    expect((await api(`${sim.url}/api/accounts/me`, { key: other })).status).toBe(429);
    expect((await api(`${sim.url}/api/accounts/me`, { key: other })).status).toBe(200);
  });

  it('holds a request for delayMs, so a client with a shorter timeout sees a hang', async () => {
    sim.addFault({ path: '/api/calls', status: 200, delayMs: 10_000 });
    // The client's own timeout ends the wait: the simulator had not answered.
    await expect(
      api(`${sim.url}/api/calls`, { key, signal: AbortSignal.timeout(100) }),
    ).rejects.toMatchObject({ name: 'TimeoutError' });
  });

  it('records /api requests with the API key cut to its first 8 characters', async () => {
    await create();
    const { body } = await api<{ requests: RecordedRequest[] }>(`${sim.url}/_sim/requests`);
    expect(body.requests).toEqual([
      expect.objectContaining({
        method: 'POST',
        path: '/api/agents/agent-1/calls',
        body: outgoingCall('+15551230000'),
        headers: expect.objectContaining({ 'x-api-key': 'faultsAA' }),
      }),
    ]);
    expect(JSON.stringify(body)).not.toContain(key);
    expect((await api(`${sim.url}/_sim/requests`, { method: 'DELETE' })).status).toBe(204);
    expect(sim.requests()).toEqual([]);
  });

  it('lists every call with its scenario, and reset forgets them', async () => {
    await create();
    const view = await api<ReturnType<UltravoxSim['calls']>>(`${sim.url}/_sim/calls`);
    expect(view.body.calls).toEqual([
      expect.objectContaining({ keyPrefix: 'faultsAA', scenario: 'no_answer' }),
    ]);
    expect(view.body.accounts).toEqual([expect.objectContaining({ maxConcurrentLive: 1 })]);
    expect((await api(`${sim.url}/_sim/reset`, { method: 'POST' })).status).toBe(204);
    expect(sim.calls()).toEqual({ accounts: [], calls: [] });
  });
});
