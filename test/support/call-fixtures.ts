import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { UltravoxSim } from '../../tools/ultravox-sim/server';
import { createAgency, generateApiKey, TestAgency, ultravoxKey } from './fixtures';
import { TestApp } from './test-app';

export interface CallingAgency extends TestAgency {
  apiKey: string;
  ultravoxKey: string;
  agentId: string;
  ultravoxAgentId: string;
  callerId: string;
}

/**
 * An agency set up the way a real one is, entirely through the API: Ultravox key saved with its
 * webhook registered (so the simulator's signed webhooks reach ingest), a default agent, an API key.
 */
export async function callingAgency(t: TestApp, agent: Record<string, unknown> = {}): Promise<CallingAgency> {
  const agency = await createAgency(t);
  const key = ultravoxKey();
  await request(t.url)
    .post('/functions/v1/save-ultravox-integration')
    .set('Authorization', agency.owner.auth)
    .send({ api_key: key, register_webhook: true })
    .expect(200);
  const ultravoxAgentId = randomUUID();
  const callerId = '+15550001111';
  const created = await request(t.url)
    .post('/api/v1/agents')
    .set('Authorization', agency.owner.auth)
    .send({ name: 'Sales Agent', ultravox_agent_id: ultravoxAgentId, phone_number: callerId, ...agent })
    .expect(201);
  const agentId = created.body.data.id as string;
  await request(t.url)
    .patch('/api/v1/integrations/api')
    .set('Authorization', agency.owner.auth)
    .send({ default_agent_id: agentId })
    .expect(200);
  const apiKey = await generateApiKey(t, agency.owner);
  return { ...agency, apiKey, ultravoxKey: key, agentId, ultravoxAgentId, callerId };
}

/** Subscribes a receiver URL to call events; returns its whsec_ secret. */
export async function subscribe(
  t: TestApp,
  agency: TestAgency,
  url: string,
  events = ['call.started', 'call.completed', 'call.failed'],
) {
  const res = await request(t.url)
    .post('/api/v1/webhooks')
    .set('Authorization', agency.owner.auth)
    .send({ url, events })
    .expect(201);
  return res.body.data.secret as string;
}

export function trigger(t: TestApp, apiKey: string, body: object, idempotencyKey?: string) {
  const req = request(t.url).post('/api/trigger-call').set('Authorization', `Bearer ${apiKey}`);
  if (idempotencyKey !== undefined) req.set('Idempotency-Key', idempotencyKey);
  return req.send(body);
}

/** Create-call requests the simulator received for one Ultravox key (it keeps the key's first 8 chars). */
export function simCreateCalls(sim: UltravoxSim, key: string) {
  return sim
    .requests()
    .filter(
      (r) =>
        r.method === 'POST' &&
        r.path.startsWith('/api/agents/') &&
        r.headers['x-api-key'] === key.slice(0, 8),
    );
}

/** The simulator's calls created for this agency's Ultravox key. */
export function simCallsOf(sim: UltravoxSim, agency: CallingAgency) {
  return simCreateCalls(sim, agency.ultravoxKey);
}
