import request from 'supertest';
import { createAgency, generateApiKey, TestAgency } from './support/fixtures';
import { startTestApp, TestApp } from './support/test-app';

describe('agency API keys (CONTRACT §3, §5.5)', () => {
  let t: TestApp;
  let agency: TestAgency;

  beforeAll(async () => {
    t = await startTestApp();
  });
  beforeEach(async () => {
    agency = await createAgency(t);
  });
  afterAll(() => t.close());

  const withKey = (key: string) => request(t.url).get('/api/v1/agents').set('Authorization', `Bearer ${key}`);
  const settings = async () =>
    (await request(t.url).get('/api/v1/integrations/api').set('Authorization', agency.owner.auth).expect(200))
      .body;

  it('shows a new key once, with a recognisable prefix and ≥ 192 random bits', async () => {
    const key = await generateApiKey(t, agency.owner);
    expect(key).toMatch(/^sb_live_[A-Za-z0-9_-]{43}$/);
    const { data } = await settings();
    expect(data.api_key).toEqual({
      prefix: key.slice(0, 12),
      last4: key.slice(-4),
      created_at: expect.any(String),
    });
    expect(JSON.stringify(data)).not.toContain(key);
  });

  it('stores only a hash and an encrypted copy of the key, never the key itself', async () => {
    const key = await generateApiKey(t, agency.owner);
    const { rows } = await t.db.query(
      'SELECT row_to_json(k)::text AS row FROM api_keys k WHERE agency_id = $1',
      [agency.agencyId],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0].row).not.toContain(key.slice(8));
  });

  it('authenticates requests made with the key', async () => {
    const key = await generateApiKey(t, agency.owner);
    const res = await withKey(key).expect(200);
    expect(res.body).toEqual({ success: true, data: [], next_cursor: null });
  });

  it('regenerating revokes the previous key at once', async () => {
    const first = await generateApiKey(t, agency.owner);
    const second = await generateApiKey(t, agency.owner);
    expect(second).not.toBe(first);
    const res = await withKey(first).expect(401);
    expect(res.body.error.code).toBe('unauthorized');
    await withKey(second).expect(200);
    expect((await settings()).data.api_key.last4).toBe(second.slice(-4));
  });

  it('refuses enabled: null with 400 naming it', async () => {
    const res = await request(t.url)
      .patch('/api/v1/integrations/api')
      .set('Authorization', agency.admin.auth)
      .send({ enabled: null })
      .expect(400);
    expect(res.body.error).toMatchObject({ code: 'validation_failed' });
    expect(res.body.error.details).toEqual([expect.objectContaining({ field: 'enabled' })]);
  });

  it('answers 403 api_disabled to every key request while API access is disabled, and enabling restores it', async () => {
    const key = await generateApiKey(t, agency.owner);
    await request(t.url)
      .patch('/api/v1/integrations/api')
      .set('Authorization', agency.admin.auth)
      .send({ enabled: false })
      .expect(200);
    const denied = await withKey(key).expect(403);
    expect(denied.body.error.code).toBe('api_disabled');
    await request(t.url)
      .post('/api/v1/agents')
      .set('Authorization', `Bearer ${key}`)
      .send({ name: 'x', ultravox_agent_id: 'y' })
      .expect(403);
    // Dashboard users keep working while the key is switched off.
    await request(t.url).get('/api/v1/agents').set('Authorization', agency.member.auth).expect(200);
    await request(t.url)
      .patch('/api/v1/integrations/api')
      .set('Authorization', agency.owner.auth)
      .send({ enabled: true })
      .expect(200);
    await withKey(key).expect(200);
  });

  it('answers 401 to an unknown key', async () => {
    await withKey('sb_live_' + 'A'.repeat(43)).expect(401);
  });

  it('sees only its own agency', async () => {
    const other = await createAgency(t, 'Other');
    await request(t.url)
      .post('/api/v1/agents')
      .set('Authorization', other.owner.auth)
      .send({ name: 'Theirs', ultravox_agent_id: 'uv-theirs' })
      .expect(201);
    const key = await generateApiKey(t, agency.owner);
    expect((await withKey(key).expect(200)).body.data).toEqual([]);
  });

  describe('webhook_url and default agent', () => {
    it('accepts an https URL, refuses http and private targets (when not allowed), and null removes it', async () => {
      const strict = await startTestApp({ WEBHOOK_ALLOW_PRIVATE_URLS: 'false' });
      try {
        const a = await createAgency(strict);
        const patch = (webhook_url: string | null) =>
          request(strict.url)
            .patch('/api/v1/integrations/api')
            .set('Authorization', a.owner.auth)
            .send({ webhook_url });
        expect(
          (await patch('https://hooks.example-agency.test/switchboard').expect(200)).body.data.webhook_url,
        ).toBe('https://hooks.example-agency.test/switchboard');
        for (const bad of [
          'http://hooks.example-agency.test/x',
          'https://127.0.0.1/x',
          'https://10.1.2.3/x',
          'https://[::1]/x',
          'https://169.254.169.254/latest',
        ]) {
          const res = await patch(bad).expect(400);
          expect(res.body.error).toMatchObject({
            code: 'validation_failed',
            details: [expect.objectContaining({ field: 'webhook_url' })],
          });
        }
        expect((await patch(null).expect(200)).body.data.webhook_url).toBeNull();
      } finally {
        await strict.close();
      }
    });

    it('sets and clears the default agent, refusing an unknown one', async () => {
      const agent = await request(t.url)
        .post('/api/v1/agents')
        .set('Authorization', agency.owner.auth)
        .send({ name: 'Default', ultravox_agent_id: 'uv-default' })
        .expect(201);
      const patch = (default_agent_id: string | null) =>
        request(t.url)
          .patch('/api/v1/integrations/api')
          .set('Authorization', agency.admin.auth)
          .send({ default_agent_id });
      expect((await patch(agent.body.data.id).expect(200)).body.data.default_agent_id).toBe(
        agent.body.data.id,
      );
      expect((await patch('7d0e4a52-9c1b-4a57-8f7e-0c5a1b2c3d4e').expect(404)).body.error.code).toBe(
        'agent_not_found',
      );
      expect((await patch('not-a-uuid').expect(400)).body.error.code).toBe('validation_failed');
      expect((await patch(null).expect(200)).body.data.default_agent_id).toBeNull();
    });
  });
});
