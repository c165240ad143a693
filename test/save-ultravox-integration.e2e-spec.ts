import request from 'supertest';
import { startUltravoxSim, UltravoxSim } from '../tools/ultravox-sim/server';
import { createAgency, TestAgency, ultravoxKey } from './support/fixtures';
import { startTestApp, TestApp } from './support/test-app';

const SAVE = '/functions/v1/save-ultravox-integration';
const INGEST_URL = (agencyId: string) =>
  new RegExp(`^https://switchboard\\.test/functions/v1/webhook-ingest/${agencyId}/[A-Za-z0-9_-]{43}$`);

describe('POST /functions/v1/save-ultravox-integration (CONTRACT §5.1)', () => {
  let sim: UltravoxSim;
  let t: TestApp;
  let agency: TestAgency;

  beforeAll(async () => {
    sim = await startUltravoxSim();
    t = await startTestApp({ ULTRAVOX_API_BASE_URL: sim.url, ULTRAVOX_TIMEOUT_MS: '800' });
  });
  beforeEach(async () => {
    sim.reset();
    agency = await createAgency(t);
  });
  afterAll(async () => {
    await t.close();
    await sim.close();
  });

  const save = (body: object, auth = agency.owner.auth) =>
    request(t.url).post(SAVE).set('Authorization', auth).send(body);
  const storedRow = async () =>
    (await t.db.query('SELECT row_to_json(a)::text AS row FROM agencies a WHERE id = $1', [agency.agencyId]))
      .rows[0].row as string;

  it('validates the key at Ultravox, stores it encrypted and answers the ingest URL', async () => {
    const key = ultravoxKey();
    const res = await save({ api_key: key }).expect(200);
    expect(res.body).toEqual({
      success: true,
      webhook_url: expect.stringMatching(INGEST_URL(agency.agencyId)),
    });

    const [check] = sim.requests();
    expect(check).toMatchObject({ method: 'GET', path: '/api/calls', query: { limit: '1' } });
    expect(check.headers['x-api-key']).toBe(key.slice(0, 8));

    const row = await storedRow();
    expect(row).not.toContain(key);
    expect(row).not.toContain(key.split('.')[1]);
    const integration = await request(t.url)
      .get('/api/v1/integrations/ultravox')
      .set('Authorization', agency.member.auth)
      .expect(200);
    expect(integration.body).toEqual({
      success: true,
      data: {
        configured: true,
        added_at: expect.any(String),
        validated_at: expect.any(String),
        webhook_url: res.body.webhook_url,
        signature_verification: false,
        ultravox_webhook: null,
        // The simulator's default maxConcurrentCalls (5), below MAX_CONCURRENT_CALLS_PER_AGENCY (10).
        allowed_concurrent_calls: 5,
        effective_concurrent_calls: 5,
        account_checked_at: expect.any(String),
        key_rejected_at: null,
      },
    });
    expect(JSON.stringify(integration.body)).not.toContain(key);
  });

  it('with skip_validation stores the key without asking Ultravox and leaves validated_at null', async () => {
    await save({ api_key: ultravoxKey(), skip_validation: true }).expect(200);
    expect(sim.requests()).toHaveLength(0);
    const { body } = await request(t.url)
      .get('/api/v1/integrations/ultravox')
      .set('Authorization', agency.owner.auth);
    expect(body.data.configured).toBe(true);
    expect(body.data.added_at).not.toBeNull();
    expect(body.data.validated_at).toBeNull();
  });

  it('keeps the ingest URL stable across saves', async () => {
    const first = (await save({ api_key: ultravoxKey() }).expect(200)).body.webhook_url;
    const second = (await save({ api_key: ultravoxKey(), skip_validation: true }).expect(200)).body
      .webhook_url;
    expect(second).toBe(first);
  });

  it.each([
    ['missing', {}],
    ['empty', { api_key: '' }],
    ['not a string', { api_key: 42 }],
  ])('answers 400 validation_failed when api_key is %s', async (_, body) => {
    const res = await save(body).expect(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.details).toEqual(
      expect.arrayContaining([expect.objectContaining({ field: 'api_key' })]),
    );
  });

  it('answers 400 with a skip_validation hint when Ultravox rejects the key, and stores nothing', async () => {
    const res = await save({ api_key: ultravoxKey('invalid') }).expect(400);
    expect(res.body.success).toBe(false);
    expect(res.body.error.code).toBe('ultravox_key_rejected');
    expect(res.body.error.hint).toContain('skip_validation: true');
    const { body } = await request(t.url)
      .get('/api/v1/integrations/ultravox')
      .set('Authorization', agency.owner.auth);
    expect(body.data.configured).toBe(false);
  });

  it('treats a 401 from Ultravox as a rejected key too', async () => {
    sim.addFault({ path: '/api/calls', status: 401, body: { detail: 'Invalid API key' } });
    const res = await save({ api_key: ultravoxKey() }).expect(400);
    expect(res.body.error.hint).toContain('skip_validation: true');
  });

  it('rejects a key that does not have the Ultravox shape without calling Ultravox', async () => {
    const res = await save({ api_key: 'not-an-ultravox-key' }).expect(400);
    expect(res.body.error.code).toBe('ultravox_key_rejected');
    expect(sim.requests()).toHaveLength(0);
  });

  it.each([
    ['answers 5xx', { status: 500 }],
    ['is overloaded', { status: 503 }],
    ['times out', { status: 200, body: { results: [] }, delayMs: 2_000 }],
  ])('answers 502 with the hint when Ultravox %s', async (_, fault) => {
    sim.addFault({ path: '/api/calls', times: 5, ...fault });
    const res = await save({ api_key: ultravoxKey() }).expect(502);
    expect(res.body.error.code).toBe('ultravox_unavailable');
    expect(res.body.error.hint).toContain('skip_validation: true');
  });

  it('waits out a short Retry-After from Ultravox and succeeds', async () => {
    sim.addFault({ path: '/api/calls', status: 429, headers: { 'Retry-After': '1' } });
    await save({ api_key: ultravoxKey() }).expect(200);
    expect(sim.requests().filter((r) => r.path === '/api/calls')).toHaveLength(2);
  });

  it('answers 502 when Ultravox cannot be reached at all', async () => {
    const offline = await startTestApp({ ULTRAVOX_API_BASE_URL: 'http://127.0.0.1:9' });
    try {
      const other = await createAgency(offline);
      const res = await request(offline.url)
        .post(SAVE)
        .set('Authorization', other.owner.auth)
        .send({ api_key: ultravoxKey() });
      expect(res.status).toBe(502);
      expect(res.body.error.hint).toContain('skip_validation: true');
    } finally {
      await offline.close();
    }
  });

  it('answers 401 without a valid Authorization header', async () => {
    await request(t.url).post(SAVE).send({ api_key: ultravoxKey() }).expect(401);
    const res = await save({ api_key: ultravoxKey() }, 'Bearer not.a.jwt').expect(401);
    expect(res.body.error.code).toBe('unauthorized');
  });

  it('answers 403 to an admin and a member', async () => {
    for (const user of [agency.admin, agency.member]) {
      const res = await save({ api_key: ultravoxKey(), skip_validation: true }, user.auth).expect(403);
      expect(res.body.error.code).toBe('insufficient_role');
    }
  });

  it('answers 405 with Allow: POST to other methods', async () => {
    for (const method of ['get', 'put', 'delete', 'patch'] as const) {
      const res = await request(t.url)[method](SAVE).set('Authorization', agency.owner.auth).expect(405);
      expect(res.headers.allow).toBe('POST');
    }
  });

  it('answers 500 with an error_id and no internals when storage fails', async () => {
    await t.db.query(
      `ALTER TABLE agencies ADD CONSTRAINT test_refuse_keys CHECK (ultravox_api_key_encrypted IS NULL) NOT VALID`,
    );
    try {
      const res = await save({ api_key: ultravoxKey(), skip_validation: true }).expect(500);
      expect(res.body).toEqual({
        success: false,
        error: {
          code: 'internal_error',
          message: 'Internal server error',
          error_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        },
      });
      expect(JSON.stringify(res.body)).not.toMatch(/constraint|postgres|at .*\.ts/i);
    } finally {
      await t.db.query('ALTER TABLE agencies DROP CONSTRAINT test_refuse_keys');
    }
  });

  describe('register_webhook', () => {
    it('registers the ingest URL at Ultravox with the call events (billing included) and a signing secret', async () => {
      const key = ultravoxKey();
      const res = await save({ api_key: key, register_webhook: true }).expect(200);
      const created = sim.requests().find((r) => r.method === 'POST' && r.path === '/api/webhooks');
      expect(created?.body).toEqual({
        url: res.body.webhook_url,
        events: ['call.started', 'call.joined', 'call.ended', 'call.billed'],
        secrets: [expect.stringMatching(/^[A-Za-z0-9_-]{32,}$/)],
      });
      const secret = (created!.body as { secrets: string[] }).secrets[0];
      expect(await storedRow()).not.toContain(secret);
      const { body } = await request(t.url)
        .get('/api/v1/integrations/ultravox')
        .set('Authorization', agency.owner.auth);
      expect(body.data.signature_verification).toBe(true);
    });

    it('updates the same Ultravox webhook on a second save, keeping its secret', async () => {
      const key = ultravoxKey();
      await save({ api_key: key, register_webhook: true }).expect(200);
      await save({ api_key: key, register_webhook: true }).expect(200);
      const writes = sim.requests().filter((r) => r.path.startsWith('/api/webhooks'));
      expect(writes.map((r) => r.method)).toEqual(['POST', 'PATCH']);
      const [first, second] = writes.map((r) => (r.body as { secrets: string[] }).secrets[0]);
      expect(second).toBe(first);
    });

    it('stores nothing when Ultravox refuses the webhook', async () => {
      sim.addFault({ method: 'POST', path: '/api/webhooks', status: 500 });
      await save({ api_key: ultravoxKey(), register_webhook: true }).expect(502);
      const { body } = await request(t.url)
        .get('/api/v1/integrations/ultravox')
        .set('Authorization', agency.owner.auth);
      expect(body.data).toMatchObject({ configured: false, signature_verification: false });
    });
  });

  describe('ingest secret rotation and removal', () => {
    it('rotating gives a new ingest URL and re-points the registered Ultravox webhook', async () => {
      const before = (await save({ api_key: ultravoxKey(), register_webhook: true }).expect(200)).body
        .webhook_url;
      sim.clearRequests();
      const res = await request(t.url)
        .post('/api/v1/integrations/ultravox/rotate-webhook-secret')
        .set('Authorization', agency.owner.auth)
        .expect(200);
      expect(res.body.webhook_url).toMatch(INGEST_URL(agency.agencyId));
      expect(res.body.webhook_url).not.toBe(before);
      const [patch] = sim.requests();
      expect(patch).toMatchObject({
        method: 'PATCH',
        body: expect.objectContaining({ url: res.body.webhook_url }),
      });
    });

    it('only the owner may rotate', async () => {
      await request(t.url)
        .post('/api/v1/integrations/ultravox/rotate-webhook-secret')
        .set('Authorization', agency.admin.auth)
        .expect(403);
    });

    it('DELETE removes the key and the Ultravox webhook', async () => {
      await save({ api_key: ultravoxKey(), register_webhook: true }).expect(200);
      await request(t.url)
        .delete('/api/v1/integrations/ultravox')
        .set('Authorization', agency.owner.auth)
        .expect(200);
      expect(sim.requests().at(-1)).toMatchObject({
        method: 'DELETE',
        path: expect.stringMatching(/^\/api\/webhooks\//),
      });
      const { body } = await request(t.url)
        .get('/api/v1/integrations/ultravox')
        .set('Authorization', agency.owner.auth);
      expect(body.data).toMatchObject({
        configured: false,
        added_at: null,
        validated_at: null,
        signature_verification: false,
      });
      const row = await storedRow();
      expect(JSON.parse(row).ultravox_api_key_encrypted).toBeNull();
    });
  });
});
