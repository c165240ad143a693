import { startUltravoxSim, UltravoxCall, UltravoxSim } from './server';
import { api, apiKey, outgoingCall, Receiver, startReceiver, waitFor } from './spec-support';

interface AgentBody {
  agentId: string;
  name: string;
  callTemplate: { contextSchema?: { properties?: Record<string, unknown> } };
  detail?: string;
}

describe('Ultravox simulator: agents, context schemas and console calls', () => {
  let sim: UltravoxSim;
  let receiver: Receiver;
  const key = apiKey('agentsAA');
  const schema = { type: 'object', properties: { name: { type: 'string' }, phone: { type: 'string' } } };

  beforeAll(async () => {
    sim = await startUltravoxSim({ timeScale: 0.005 });
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await sim.close();
    await receiver.close();
  });
  beforeEach(() => {
    sim.reset();
    receiver.received.length = 0;
  });

  const getAgent = (agentId: string, as = key) =>
    api<AgentBody>(`${sim.url}/api/agents/${agentId}`, { key: as });

  it('GET /api/agents/{id} shows an agent made through /_sim/agents with its contextSchema', async () => {
    const made = await api<AgentBody>(`${sim.url}/_sim/agents`, {
      method: 'POST',
      body: { apiKey: key, agentId: 'a-with-schema', name: 'Booker', contextSchema: schema },
    });
    expect(made.status).toBe(201);
    const read = await getAgent('a-with-schema');
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({
      agentId: 'a-with-schema',
      name: 'Booker',
      callTemplate: { contextSchema: schema },
    });
  });

  it('answers 404 for ids starting with 00000000 and shows other ids as agents without a schema', async () => {
    expect((await getAgent('00000000-dead-4000-8000-000000000000')).status).toBe(404);
    const implicit = await getAgent('f1e2d3c4-0000-4000-8000-000000000001');
    expect(implicit.status).toBe(200);
    expect(implicit.body.callTemplate).toEqual({});
  });

  it('keeps agents per account: another key does not see the schema', async () => {
    sim.addAgent({ apiKey: key, agentId: 'per-account', contextSchema: schema });
    const other = await getAgent('per-account', apiKey('agentsBB'));
    expect(other.body.callTemplate).toEqual({});
  });

  it('refuses a call whose templateContext has a key the schema does not declare (400 with detail)', async () => {
    sim.addAgent({ apiKey: key, agentId: 'strict', contextSchema: schema });
    const create = (templateContext: Record<string, string>) =>
      api<UltravoxCall & { detail?: string }>(`${sim.url}/api/agents/strict/calls`, {
        method: 'POST',
        key,
        body: outgoingCall('+15551230000', { templateContext }),
      });
    const refused = await create({ name: 'Ana', email: 'ana@example.com' });
    expect(refused.status).toBe(400);
    expect(refused.body.detail).toMatch(/"email" not declared/);
    expect((await create({ name: 'Ana', phone: '+15551230000' })).status).toBe(201);
  });

  it('a console call sends its webhooks to every webhook of the account, without metadata', async () => {
    await api(`${sim.url}/api/webhooks`, {
      method: 'POST',
      key,
      body: { url: receiver.url, events: ['call.started', 'call.ended'] },
    });
    const started = await api<UltravoxCall>(`${sim.url}/_sim/console-calls`, {
      method: 'POST',
      body: { apiKey: key, agentId: 'inbound-agent', from: '+15557654321' },
    });
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({
      agentId: 'inbound-agent',
      metadata: {},
      medium: { twilio: { incoming: { from: '+15557654321', to: '+15550000000' } } },
    });
    await waitFor('call.ended', () => receiver.received.some((r) => r.rawBody.includes('"call.ended"')));
    const events = receiver.received.map((r) => (JSON.parse(r.rawBody) as { event: string }).event);
    expect(events).toEqual(expect.arrayContaining(['call.started', 'call.ended']));
  });

  it('a console call without a caller is a WebRTC call; a bad number is refused', async () => {
    expect(sim.consoleCall({ apiKey: key }).medium).toEqual({ webRtc: {} });
    const bad = await api<{ detail: string }>(`${sim.url}/_sim/console-calls`, {
      method: 'POST',
      body: { apiKey: key, from: '555-1234' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toMatch(/from/);
  });

  it('bills a WebRTC console call free (FREE_CONSOLE) and an incoming phone call by its scenario', async () => {
    const webRtc = sim.consoleCall({ apiKey: key });
    const phone = sim.consoleCall({ apiKey: key, from: '+15557654321' });
    const billed = (callId: string) => sim.calls().calls.find((c) => c.call.callId === callId);
    await waitFor('both billed', () => [webRtc, phone].every((c) => billed(c.callId)?.phase === 'billed'));
    expect(billed(webRtc.callId)!.call.billingStatus).toBe('BILLING_STATUS_FREE_CONSOLE');
    expect(billed(phone.callId)!.call.billingStatus).toBe('BILLING_STATUS_BILLED');
  });
});
