import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { UltravoxSim } from '../tools/ultravox-sim/server';
import { callingAgency, CallingAgency, simCallsOf, trigger } from './support/call-fixtures';
import { startCallingStack, stopCallingStack } from './support/calling-stack';
import { errorBody } from './support/errors';
import { Receiver } from './support/receiver';
import { TestApp } from './support/test-app';
import { waitFor } from './support/wait';

/** Ultravox answers 404 for these ids (simulator convention). */
const unknownAgentId = () => `00000000-${randomUUID().slice(9)}`;

/*
 * CONTRACT §7 / issue 13 point 5: an agent's ultravox_agent_id is checked with GET /api/agents/{id}
 * when the agency has a stored key; its context schema decides which templateContext keys are sent.
 */
describe('agents checked against Ultravox, and their context schemas', () => {
  let sim: UltravoxSim;
  let t: TestApp;
  let receiver: Receiver;
  let agency: CallingAgency;

  beforeAll(async () => {
    ({ sim, t, receiver } = await startCallingStack({ timeScale: 0.02 }));
    agency = await callingAgency(t);
  });
  afterAll(() => stopCallingStack({ sim, t, receiver }));

  const createAgent = (body: Record<string, unknown>) =>
    request(t.url)
      .post('/api/v1/agents')
      .set('Authorization', agency.owner.auth)
      .send({ name: 'Checked', phone_number: '+15550002222', ...body });
  const getAgent = async (id: string) =>
    (await request(t.url).get(`/api/v1/agents/${id}`).set('Authorization', agency.member.auth).expect(200))
      .body.data as Record<string, unknown>;
  const agentLookups = (ultravoxAgentId: string) =>
    sim.requests().filter((r) => r.method === 'GET' && r.path === `/api/agents/${ultravoxAgentId}`).length;
  const callOf = async (callId: string) =>
    (await request(t.url).get(`/api/v1/calls/${callId}`).set('Authorization', agency.member.auth).expect(200))
      .body.data as Record<string, unknown>;

  it('an ultravox_agent_id Ultravox does not know answers 422 ultravox_agent_not_found and saves nothing', async () => {
    const before = (
      await request(t.url).get('/api/v1/agents').set('Authorization', agency.member.auth).expect(200)
    ).body.data.length as number;
    const res = await createAgent({ ultravox_agent_id: unknownAgentId() });
    expect(res.status).toBe(422);
    expect(res.body).toEqual(errorBody('ultravox_agent_not_found'));
    expect(res.body.error.hint).toEqual(expect.any(String));
    const after = (
      await request(t.url).get('/api/v1/agents').set('Authorization', agency.member.auth).expect(200)
    ).body.data;
    expect(after).toHaveLength(before);
  });

  it('changing ultravox_agent_id to one Ultravox does not know answers 422 and leaves the agent as it was', async () => {
    const res = await request(t.url)
      .patch(`/api/v1/agents/${agency.agentId}`)
      .set('Authorization', agency.owner.auth)
      .send({ ultravox_agent_id: unknownAgentId(), name: 'Renamed' });
    expect(res.status).toBe(422);
    expect(res.body).toEqual(errorBody('ultravox_agent_not_found'));
    expect(await getAgent(agency.agentId)).toMatchObject({
      ultravox_agent_id: agency.ultravoxAgentId,
      name: 'Sales Agent',
      ultravox_check: 'verified',
    });
  });

  it('a known agent is saved verified, with the variables its context schema declares', async () => {
    const ultravoxAgentId = randomUUID();
    sim.addAgent({
      apiKey: agency.ultravoxKey,
      agentId: ultravoxAgentId,
      contextSchema: { type: 'object', properties: { phone: {}, name: {}, plan: {} } },
    });
    const res = await createAgent({ ultravox_agent_id: ultravoxAgentId }).expect(201);
    expect(res.body.data).toMatchObject({
      ultravox_check: 'verified',
      ultravox_checked_at: expect.any(String),
      context_variables: ['name', 'phone', 'plan'],
      warning: null,
    });
  });

  it('Ultravox unreachable: the agent is saved with a warning, and checked again at dial', async () => {
    const ultravoxAgentId = randomUUID();
    sim.addFault({ method: 'GET', path: `/api/agents/${ultravoxAgentId}`, status: 503 });
    const res = await createAgent({ ultravox_agent_id: ultravoxAgentId }).expect(201);
    expect(res.body.data).toMatchObject({
      ultravox_check: 'unverified',
      ultravox_checked_at: null,
      warning: expect.stringMatching(/could not be reached/),
    });

    const callId = (
      await trigger(t, agency.apiKey, { phone: '+15557771001', agent_id: res.body.data.id }).expect(200)
    ).body.call_id as string;
    await waitFor(async () => (await callOf(callId)).ultravox_call_id, 20_000, 'the call to be placed');
    expect(agentLookups(ultravoxAgentId)).toBe(2);
    expect(await getAgent(res.body.data.id)).toMatchObject({ ultravox_check: 'verified', warning: null });
  });

  it('an agent saved unverified that Ultravox does not know fails its call with ultravox_agent_not_found, never placed', async () => {
    const ultravoxAgentId = unknownAgentId();
    sim.addFault({ method: 'GET', path: `/api/agents/${ultravoxAgentId}`, status: 504 });
    const res = await createAgent({ ultravox_agent_id: ultravoxAgentId }).expect(201);
    expect(res.body.data.ultravox_check).toBe('unverified');

    const callId = (
      await trigger(t, agency.apiKey, { phone: '+15557771002', agent_id: res.body.data.id }).expect(200)
    ).body.call_id as string;
    const failed = await waitFor(
      async () => {
        const call = await callOf(callId);
        return call.status === 'failed' && call;
      },
      20_000,
      'the call to fail',
    );
    expect(failed.failure_reason).toBe('ultravox_agent_not_found');
    expect(simCallsOf(sim, agency).filter((r) => r.path === `/api/agents/${ultravoxAgentId}/calls`)).toEqual(
      [],
    );
  });

  it('a key Ultravox rejects: the agent is saved as key_rejected, with a warning', async () => {
    const ultravoxAgentId = randomUUID();
    sim.addFault({
      method: 'GET',
      path: `/api/agents/${ultravoxAgentId}`,
      status: 403,
      body: { detail: 'Invalid API key' },
    });
    const res = await createAgent({ ultravox_agent_id: ultravoxAgentId }).expect(201);
    expect(res.body.data).toMatchObject({
      ultravox_check: 'key_rejected',
      warning: expect.stringMatching(/rejected the stored API key/),
    });
  });

  describe('an agent whose Ultravox agent declares a context schema', () => {
    let agentId: string;
    let ultravoxAgentId: string;

    beforeAll(async () => {
      ultravoxAgentId = randomUUID();
      // The simulator refuses a creation whose templateContext has an undeclared key (400).
      sim.addAgent({
        apiKey: agency.ultravoxKey,
        agentId: ultravoxAgentId,
        contextSchema: { type: 'object', properties: { name: {}, phone: {}, plan: {}, city: {} } },
      });
      agentId = (await createAgent({ ultravox_agent_id: ultravoxAgentId }).expect(201)).body.data
        .id as string;
    });

    it('sends only the declared keys, and trigger-call reports the declared variables left empty', async () => {
      const res = await trigger(t, agency.apiKey, {
        phone: '+15557772001',
        name: 'Ada',
        email: 'ada@example.com',
        agent_id: agentId,
        metadata: { plan: 'gold', ref: 'abc-1', city: '' },
      }).expect(200);
      expect(res.body).toMatchObject({ status: 'queued', missing_variables: ['city'] });

      const callId = res.body.call_id as string;
      await waitFor(async () => (await callOf(callId)).ultravox_call_id, 20_000, 'the call to be placed');
      const created = simCallsOf(sim, agency).filter(
        (r) => r.path === `/api/agents/${ultravoxAgentId}/calls`,
      );
      expect(created).toHaveLength(1);
      expect((created[0].body as { templateContext: unknown }).templateContext).toEqual({
        name: 'Ada',
        phone: '+15557772001',
        plan: 'gold',
        city: '',
      });
      // The schema was read when the agent was saved; the dial used it as stored.
      expect(agentLookups(ultravoxAgentId)).toBe(1);
    });

    it('a call without the declared variables is still placed, and reports them', async () => {
      const res = await trigger(t, agency.apiKey, { phone: '+15557772002', agent_id: agentId }).expect(200);
      expect(res.body.missing_variables).toEqual(['city', 'name', 'plan']);
      const call = await waitFor(
        async () => {
          const found = await callOf(res.body.call_id as string);
          return typeof found.ultravox_call_id === 'string' && found;
        },
        20_000,
        'the call to be placed',
      );
      expect(call.status).not.toBe('failed');
      expect(agentLookups(ultravoxAgentId)).toBe(1);
    });

    it("a contact import reports the contacts that leave the agent's declared variables empty", async () => {
      const campaign = await request(t.url)
        .post('/api/v1/campaigns')
        .set('Authorization', `Bearer ${agency.apiKey}`)
        .send({ name: 'Schema check', agent_id: agentId })
        .expect(201);
      const csv = [
        'phone,name,plan,city,ref',
        '+15557773001,Ada,gold,Berlin,r1',
        '+15557773002,,silver,,r2',
        '+15557773003,Bo,,Paris,',
      ].join('\n');
      const res = await request(t.url)
        .post(`/api/v1/campaigns/${campaign.body.data.id}/contacts`)
        .set('Authorization', `Bearer ${agency.apiKey}`)
        .set('Content-Type', 'text/csv')
        .send(csv)
        .expect(200);
      expect(res.body.data).toMatchObject({
        accepted: 3,
        missing_variables: {
          count: 2,
          truncated: false,
          rows: [
            { row: 2, phone: '+15557773002', variables: ['city', 'name'] },
            { row: 3, phone: '+15557773003', variables: ['plan'] },
          ],
        },
      });
    });
  });
});
