import request from 'supertest';
import { createAgency, TestAgency } from './support/fixtures';
import { startTestApp, TestApp } from './support/test-app';

describe('HTTP surface: errors, docs, health, Bull Board', () => {
  let t: TestApp;
  let agency: TestAgency;

  beforeAll(async () => {
    t = await startTestApp({ BULL_BOARD_USERNAME: 'ops', BULL_BOARD_PASSWORD: 'queue-watcher' });
    agency = await createAgency(t);
  });
  afterAll(() => t.close());

  it('answers an unknown route 404 in the contract error shape', async () => {
    const res = await request(t.url).get('/no/such/route').expect(404);
    expect(res.body).toEqual({ success: false, error: { code: 'not_found', message: expect.any(String) } });
  });

  it('answers a wrong method on a known path 405 with an Allow header', async () => {
    const res = await request(t.url).get('/functions/v1/save-ultravox-integration').expect(405);
    expect(res.headers.allow).toBe('POST');
    expect(res.body.error.code).toBe('method_not_allowed');
    const agents = await request(t.url)
      .put('/api/v1/agents/6f1d0c1e-0000-4000-8000-000000000000')
      .expect(405);
    expect(agents.headers.allow.split(', ').sort()).toEqual(['DELETE', 'GET', 'HEAD', 'PATCH']);
  });

  it('rejects malformed JSON with a 400 in the error shape', async () => {
    const res = await request(t.url)
      .post('/api/v1/agents')
      .set('Authorization', agency.owner.auth)
      .set('Content-Type', 'application/json')
      .send('{"name": ')
      .expect(400);
    expect(res.body.success).toBe(false);
    expect(res.body.error.code).toBe('bad_request');
  });

  it('rejects unknown body fields, one detail per field', async () => {
    const res = await request(t.url)
      .post('/api/v1/agents')
      .set('Authorization', agency.owner.auth)
      .send({ name: 'A', ultravox_agent_id: 'uv-1', colour: 'blue' })
      .expect(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.details).toEqual([{ field: 'colour', message: expect.stringContaining('colour') }]);
  });

  it('reports Postgres and Redis healthy', async () => {
    const res = await request(t.url).get('/health').expect(200);
    expect(res.body).toEqual({
      status: 'ok',
      details: { postgres: { status: 'up' }, redis: { status: 'up' } },
    });
  });

  it('serves Swagger UI and an OpenAPI document with its bearer schemes (users, API keys, metrics)', async () => {
    await request(t.url).get('/docs').expect(200).expect('content-type', /html/);
    const doc = (await request(t.url).get('/docs-json').expect(200)).body;
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.components.securitySchemes).toEqual({
      jwt: expect.objectContaining({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }),
      api_key: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
      metrics_token: { type: 'http', scheme: 'bearer', description: expect.any(String) },
    });
    const save = doc.paths['/functions/v1/save-ultravox-integration'].post;
    expect(save.requestBody.content['application/json'].schema.$ref).toBe(
      '#/components/schemas/SaveUltravoxIntegrationDto',
    );
    expect(Object.keys(save.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403', '502']));
    expect(doc.components.schemas.SaveUltravoxIntegrationDto.properties).toEqual(
      expect.objectContaining({
        api_key: expect.objectContaining({ type: 'string' }),
        skip_validation: expect.anything(),
      }),
    );
  });

  it('serves Bull Board only with the operator credentials', async () => {
    const denied = await request(t.url).get('/admin/queues').expect(401);
    expect(denied.headers['www-authenticate']).toMatch(/^Basic/);
    await request(t.url).get('/admin/queues').auth('ops', 'wrong').expect(401);
    await request(t.url).get('/admin/queues/api/queues').expect(401);
    await request(t.url)
      .get('/admin/queues')
      .auth('ops', 'queue-watcher')
      .expect(200)
      .expect('content-type', /html/);
  });

  it("answers Bull Board's own errors in the contract shape, and a missing asset 404", async () => {
    const queue = await request(t.url)
      .get('/admin/queues/api/queues/no-such-queue/1')
      .auth('ops', 'queue-watcher');
    expect(queue.status).toBe(404);
    expect(queue.body).toEqual({
      success: false,
      error: { code: 'queue_not_found', message: 'Queue not found' },
    });
    const job = await request(t.url)
      .get('/admin/queues/api/queues/call-dial/no-such-job')
      .auth('ops', 'queue-watcher');
    expect(job.status).toBe(404);
    expect(job.body).toEqual({ success: false, error: { code: 'job_not_found', message: 'Job not found' } });
    const asset = await request(t.url)
      .get('/admin/queues/static/no-such-file.js')
      .auth('ops', 'queue-watcher');
    expect(asset.status).toBe(404);
    expect(asset.headers.allow).toBeUndefined();
    expect(asset.body).toEqual({ success: false, error: { code: 'not_found', message: expect.any(String) } });
  });

  it('carries a request id on every answer', async () => {
    const res = await request(t.url).get('/health').set('X-Request-Id', 'trace-123').expect(200);
    expect(res.headers['x-request-id']).toBe('trace-123');
  });
});
