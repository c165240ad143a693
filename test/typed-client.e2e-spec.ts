import { randomUUID } from 'node:crypto';
import { createSwitchboardClient, SwitchboardClient } from '../clients/typescript/src';
import { CallingAgency, callingAgency } from './support/call-fixtures';
import { CallingStack, startCallingStack, stopCallingStack } from './support/calling-stack';
import { OpenApiResponses } from './support/openapi-responses';
import { waitFor } from './support/wait';

/**
 * clients/typescript, generated from openapi.json, used the way an agency's program uses it: its
 * API key, typed paths, bodies and answers. Its answers are checked against the document too (the
 * supertest hook does not see fetch).
 */
describe('the typed TypeScript client (clients/typescript)', () => {
  let stack: CallingStack;
  let agency: CallingAgency;
  let client: SwitchboardClient;

  beforeAll(async () => {
    stack = await startCallingStack({ timeScale: 0.02 });
    agency = await callingAgency(stack.t);
    client = createSwitchboardClient({ baseUrl: stack.t.url, token: agency.apiKey });
    const document = new OpenApiResponses();
    client.use({
      async onResponse({ request, response }) {
        const text = await response.clone().text();
        const problem = document.problemWith({
          method: request.method,
          url: request.url,
          status: response.status,
          contentType: response.headers.get('content-type') ?? undefined,
          body: text ? JSON.parse(text) : undefined,
          text,
        });
        if (problem) throw new Error(problem);
      },
    });
  });
  afterAll(() => stopCallingStack(stack));

  it('creates a webhook endpoint, triggers a call, reads the completed call and the delivery log', async () => {
    const endpoint = await client.POST('/api/v1/webhooks', {
      body: { url: `${stack.receiver.url}/switchboard`, events: ['call.completed', 'call.failed'] },
    });
    expect(endpoint.response.status).toBe(201);
    const webhookId = endpoint.data!.data.webhookId;
    expect(endpoint.data!.data.secret).toMatch(/^whsec_/);

    const triggered = await client.POST('/api/trigger-call', {
      params: { header: { 'Idempotency-Key': `lead-42-${randomUUID()}` } },
      body: { phone: '+15551234567', name: 'Ada', metadata: { crm_id: '42', tags: ['vip'] } },
    });
    expect(triggered.data).toEqual({
      success: true,
      call_id: expect.any(String),
      status: 'queued',
      missing_variables: [],
    });
    const callId = triggered.data!.call_id;

    const call = await waitFor(
      async () => {
        const { data } = await client.GET('/api/v1/calls/{id}', { params: { path: { id: callId } } });
        return data?.data.status === 'completed' && data.data;
      },
      20_000,
      'the call to complete',
    );
    expect(call).toMatchObject({
      id: callId,
      phone_number: '+15551234567',
      name: 'Ada',
      metadata: { crm_id: '42', tags: ['vip'] },
      agent_id: agency.agentId,
      duration_seconds: expect.any(Number),
    });
    expect(call.transcript?.length).toBeGreaterThan(0);

    const delivery = await waitFor(
      async () => {
        const { data } = await client.GET('/api/v1/webhooks/{id}/deliveries', {
          params: { path: { id: webhookId }, query: { limit: 10, event: 'call.completed' } },
        });
        return data?.data.find((d) => d.status === 'succeeded');
      },
      20_000,
      'a succeeded call.completed delivery',
    );
    expect(delivery).toMatchObject({ webhook_id: webhookId, event: 'call.completed', attempt_count: 1 });
    expect(delivery.attempts[0]).toMatchObject({ attempt: 1, status_code: 204 });
    const received = stack.receiver.received.map(
      (r) => JSON.parse(r.body) as { event: string; call_id: string },
    );
    expect(received).toContainEqual(expect.objectContaining({ event: 'call.completed', call_id: callId }));
  });

  it('pages with limit and cursor, and answers errors typed with their code', async () => {
    const first = await client.GET('/api/v1/calls', { params: { query: { limit: 1 } } });
    expect(first.data!.data).toHaveLength(1);

    const missing = await client.GET('/api/v1/calls/{id}', { params: { path: { id: randomUUID() } } });
    expect(missing.response.status).toBe(404);
    expect(missing.error?.error.code).toBe('call_not_found');

    const badCursor = await client.GET('/api/v1/calls', { params: { query: { cursor: 'not-a-cursor' } } });
    expect(badCursor.response.status).toBe(400);
    expect(badCursor.error?.error.code).toBe('invalid_cursor');
  });
});
