import { SignJWT } from 'jose';
import { randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import { JwtService } from '../src/auth/jwt.service';
import { errorBody } from './support/errors';
import { createAgency, generateApiKey, TestAgency, ultravoxKey } from './support/fixtures';
import { startTestApp, TestApp } from './support/test-app';

type Role = 'owner' | 'admin' | 'member';

const OWNER = ['an owner', 'owner'] as const;
const ADMIN = ['an admin', 'admin'] as const;
const MEMBER = ['a member', 'member'] as const;

describe('Roles and tenancy (CONTRACT §3)', () => {
  let t: TestApp;
  let a: TestAgency;
  let b: TestAgency;

  beforeAll(async () => {
    t = await startTestApp();
    a = await createAgency(t, 'Agency A');
    b = await createAgency(t, 'Agency B');
  });
  afterAll(() => t.close());

  const api = () => request(t.url);

  async function createAgent(auth: string, name = 'Agent') {
    const res = await api()
      .post('/api/v1/agents')
      .set('Authorization', auth)
      .send({ name, ultravox_agent_id: `uv-${randomBytes(4).toString('hex')}`, phone_number: '+15551230000' })
      .expect(201);
    return res.body.data as { id: string; name: string; [field: string]: unknown };
  }

  /** An HS256 token, signed as the identity provider would, with claims the test chooses. */
  async function signToken(
    options: {
      sub?: string;
      audience?: string;
      expiresAt?: number;
      secret?: string;
    } = {},
  ): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const jwt = new SignJWT({ role: 'authenticated' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(options.sub ?? a.owner.userId)
      .setAudience(options.audience ?? 'authenticated')
      .setIssuedAt(now - 7200)
      .setExpirationTime(options.expiresAt ?? now + 3600);
    return jwt.sign(new TextEncoder().encode(options.secret ?? t.env.JWT_SECRET));
  }

  const saveUltravox = (auth?: string) => {
    const req = api().post('/functions/v1/save-ultravox-integration');
    if (auth !== undefined) req.set('Authorization', auth);
    return req.send({ api_key: ultravoxKey(), skip_validation: true });
  };

  describe('POST /functions/v1/save-ultravox-integration (owner only)', () => {
    it('an owner can save the Ultravox key', async () => {
      const res = await saveUltravox(a.owner.auth).expect(200);
      expect(res.body).toEqual({
        success: true,
        webhook_url: expect.stringMatching(
          new RegExp(`^https://switchboard\\.test/functions/v1/webhook-ingest/${a.agencyId}/\\S+$`),
        ),
      });
    });

    it.each<readonly [string, Role]>([ADMIN, MEMBER])(
      '%s cannot save the Ultravox key (403 insufficient_role)',
      async (_, role) => {
        const res = await saveUltravox(a[role].auth).expect(403);
        expect(res.body).toEqual(errorBody('insufficient_role'));
      },
    );

    it('a refused save stores no key', async () => {
      const fresh = await createAgency(t, 'Refused save agency');
      await saveUltravox(fresh.admin.auth).expect(403);
      await saveUltravox(fresh.member.auth).expect(403);
      const res = await api()
        .get('/api/v1/integrations/ultravox')
        .set('Authorization', fresh.owner.auth)
        .expect(200);
      expect(res.body.data.configured).toBe(false);
    });

    it('answers 401 without an Authorization header', async () => {
      const res = await saveUltravox().expect(401);
      expect(res.body).toEqual(errorBody('unauthorized'));
    });

    it.each([
      ['a malformed bearer token', 'Bearer not.a.jwt'],
      ['a bearer header with no token', 'Bearer '],
      ['another auth scheme', `Basic ${Buffer.from('owner:secret').toString('base64')}`],
      ['garbage', 'let me in'],
    ])('answers 401 to %s', async (_, header) => {
      const res = await saveUltravox(header).expect(401);
      expect(res.body).toEqual(errorBody('unauthorized'));
    });

    it('answers 403 not_agency_user to a well-signed token for a user that does not exist', async () => {
      const token = await t.app.get(JwtService).issue(randomUUID());
      const res = await saveUltravox(`Bearer ${token}`).expect(403);
      expect(res.body).toEqual(errorBody('not_agency_user'));
    });

    it('answers 403 not_agency_user to a well-signed token whose sub is not a uuid', async () => {
      const token = await signToken({ sub: 'someone-else' });
      const res = await saveUltravox(`Bearer ${token}`).expect(403);
      expect(res.body).toEqual(errorBody('not_agency_user'));
    });

    it("accepts a token the test signs itself with the app's secret (control for the cases below)", async () => {
      await saveUltravox(`Bearer ${await signToken()}`).expect(200);
    });

    it('answers 401 to an expired token', async () => {
      const token = await signToken({ expiresAt: Math.floor(Date.now() / 1000) - 60 });
      const res = await saveUltravox(`Bearer ${token}`).expect(401);
      expect(res.body).toEqual(errorBody('unauthorized'));
    });

    it('answers 401 to a token with the wrong audience', async () => {
      const token = await signToken({ audience: 'anon' });
      const res = await saveUltravox(`Bearer ${token}`).expect(401);
      expect(res.body).toEqual(errorBody('unauthorized'));
    });

    it('answers 401 to a token signed with another secret', async () => {
      const token = await signToken({ secret: randomBytes(24).toString('hex') });
      const res = await saveUltravox(`Bearer ${token}`).expect(401);
      expect(res.body).toEqual(errorBody('unauthorized'));
    });

    it('answers 401 to a token without an expiry', async () => {
      const token = await new SignJWT({ role: 'authenticated' })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(a.owner.userId)
        .setAudience('authenticated')
        .sign(new TextEncoder().encode(t.env.JWT_SECRET));
      const res = await saveUltravox(`Bearer ${token}`).expect(401);
      expect(res.body).toEqual(errorBody('unauthorized'));
    });

    it('answers 401 to an unsigned (alg none) token', async () => {
      const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
      const exp = Math.floor(Date.now() / 1000) + 3600;
      const token = `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ sub: a.owner.userId, aud: 'authenticated', exp })}.`;
      const res = await saveUltravox(`Bearer ${token}`).expect(401);
      expect(res.body).toEqual(errorBody('unauthorized'));
    });
  });

  describe('integration settings', () => {
    it('an owner can generate the API key', async () => {
      const res = await api()
        .post('/api/v1/integrations/api/key')
        .set('Authorization', a.owner.auth)
        .expect(200);
      expect(res.body).toEqual({ success: true, api_key: expect.stringMatching(/^sb_live_/) });
    });

    it.each<readonly [string, Role]>([ADMIN, MEMBER])(
      '%s cannot generate the API key (403)',
      async (_, role) => {
        const fresh = await createAgency(t, `No key by ${role}`);
        const res = await api()
          .post('/api/v1/integrations/api/key')
          .set('Authorization', fresh[role].auth)
          .expect(403);
        expect(res.body).toEqual(errorBody('insufficient_role'));
        const settings = await api()
          .get('/api/v1/integrations/api')
          .set('Authorization', fresh.owner.auth)
          .expect(200);
        expect(settings.body.data.api_key).toBeNull();
      },
    );

    it.each<readonly [string, Role]>([OWNER, ADMIN])('%s can change the API settings', async (_, role) => {
      const res = await api()
        .patch('/api/v1/integrations/api')
        .set('Authorization', a[role].auth)
        .send({ enabled: true })
        .expect(200);
      expect(res.body.success).toBe(true);
      expect(res.body.data.enabled).toBe(true);
    });

    it('a member cannot change the API settings (403)', async () => {
      const fresh = await createAgency(t, 'Member patch agency');
      const res = await api()
        .patch('/api/v1/integrations/api')
        .set('Authorization', fresh.member.auth)
        .send({ enabled: false })
        .expect(403);
      expect(res.body).toEqual(errorBody('insufficient_role'));
      const settings = await api()
        .get('/api/v1/integrations/api')
        .set('Authorization', fresh.owner.auth)
        .expect(200);
      expect(settings.body.data.enabled).toBe(true);
    });

    it.each<readonly [string, Role]>([OWNER, ADMIN, MEMBER])(
      '%s can read the API settings',
      async (_, role) => {
        const res = await api()
          .get('/api/v1/integrations/api')
          .set('Authorization', a[role].auth)
          .expect(200);
        expect(res.body).toEqual({
          success: true,
          data: expect.objectContaining({ enabled: expect.any(Boolean) }),
        });
        expect(Object.keys(res.body.data).sort()).toEqual([
          'api_key',
          'default_agent_id',
          'enabled',
          'webhook_disabled_reason',
          'webhook_failing_since',
          'webhook_rate_limit_per_second',
          'webhook_state',
          'webhook_url',
        ]);
      },
    );

    it.each<readonly [string, Role]>([OWNER, ADMIN, MEMBER])(
      '%s can read the Ultravox integration',
      async (_, role) => {
        const res = await api()
          .get('/api/v1/integrations/ultravox')
          .set('Authorization', a[role].auth)
          .expect(200);
        expect(res.body.success).toBe(true);
        expect(Object.keys(res.body.data).sort()).toEqual([
          'account_checked_at',
          'added_at',
          'allowed_concurrent_calls',
          'configured',
          'effective_concurrent_calls',
          'key_rejected_at',
          'signature_verification',
          'ultravox_webhook',
          'validated_at',
          'webhook_url',
        ]);
      },
    );
  });

  describe('agents', () => {
    it.each<readonly [string, Role]>([OWNER, ADMIN])(
      '%s can create, patch and delete agents',
      async (_, role) => {
        const created = await createAgent(a[role].auth, `by ${role}`);
        const patched = await api()
          .patch(`/api/v1/agents/${created.id}`)
          .set('Authorization', a[role].auth)
          .send({ name: `renamed by ${role}` })
          .expect(200);
        expect(patched.body.data.name).toBe(`renamed by ${role}`);
        const deleted = await api()
          .delete(`/api/v1/agents/${created.id}`)
          .set('Authorization', a[role].auth)
          .expect(200);
        expect(deleted.body).toEqual({ success: true });
      },
    );

    it('a member cannot create agents', async () => {
      const fresh = await createAgency(t, 'Member create agency');
      const res = await api()
        .post('/api/v1/agents')
        .set('Authorization', fresh.member.auth)
        .send({ name: 'Nope', ultravox_agent_id: 'uv-nope' })
        .expect(403);
      expect(res.body).toEqual(errorBody('insufficient_role'));
      const list = await api().get('/api/v1/agents').set('Authorization', fresh.owner.auth).expect(200);
      expect(list.body.data).toEqual([]);
    });

    it('a member cannot patch agents', async () => {
      const agent = await createAgent(a.owner.auth, 'Untouchable');
      const res = await api()
        .patch(`/api/v1/agents/${agent.id}`)
        .set('Authorization', a.member.auth)
        .send({ name: 'Touched' })
        .expect(403);
      expect(res.body).toEqual(errorBody('insufficient_role'));
      const again = await api()
        .get(`/api/v1/agents/${agent.id}`)
        .set('Authorization', a.owner.auth)
        .expect(200);
      expect(again.body.data).toEqual(agent);
    });

    it('a member cannot delete agents', async () => {
      const agent = await createAgent(a.owner.auth, 'Undeletable');
      const res = await api()
        .delete(`/api/v1/agents/${agent.id}`)
        .set('Authorization', a.member.auth)
        .expect(403);
      expect(res.body).toEqual(errorBody('insufficient_role'));
      await api().get(`/api/v1/agents/${agent.id}`).set('Authorization', a.owner.auth).expect(200);
    });

    it('a member can list and get agents', async () => {
      const agent = await createAgent(a.admin.auth, 'Readable');
      const list = await api()
        .get('/api/v1/agents')
        .query({ limit: 100 })
        .set('Authorization', a.member.auth)
        .expect(200);
      expect(list.body.data.map((x: { id: string }) => x.id)).toContain(agent.id);
      const one = await api()
        .get(`/api/v1/agents/${agent.id}`)
        .set('Authorization', a.member.auth)
        .expect(200);
      expect(one.body).toEqual({ success: true, data: agent });
    });
  });

  describe('tenancy', () => {
    it.each([
      ['GET', (id: string) => api().get(`/api/v1/agents/${id}`)],
      ['PATCH', (id: string) => api().patch(`/api/v1/agents/${id}`).send({ name: 'Hijacked' })],
      ['DELETE', (id: string) => api().delete(`/api/v1/agents/${id}`)],
    ])("another agency's owner gets 404 for %s of an agent, and the agent is unchanged", async (_, send) => {
      const agent = await createAgent(a.owner.auth, 'Private to A');
      const res = await send(agent.id).set('Authorization', b.owner.auth).expect(404);
      expect(res.body).toEqual(errorBody('agent_not_found'));
      expect(JSON.stringify(res.body)).not.toContain('Private to A');
      const again = await api()
        .get(`/api/v1/agents/${agent.id}`)
        .set('Authorization', a.owner.auth)
        .expect(200);
      expect(again.body.data).toEqual(agent);
    });

    it("an agency's agent list never contains another agency's agents", async () => {
      const ofA = await createAgent(a.owner.auth, 'Listed for A only');
      const ofB = await createAgent(b.owner.auth, 'Listed for B only');
      const idsOf = async (auth: string) => {
        const res = await api()
          .get('/api/v1/agents')
          .query({ limit: 100 })
          .set('Authorization', auth)
          .expect(200);
        return res.body.data.map((x: { id: string }) => x.id) as string[];
      };
      const seenByB = await idsOf(b.owner.auth);
      expect(seenByB).toContain(ofB.id);
      expect(seenByB).not.toContain(ofA.id);
      const seenByA = await idsOf(a.member.auth);
      expect(seenByA).toContain(ofA.id);
      expect(seenByA).not.toContain(ofB.id);
      const { rows } = await t.db.query('SELECT id FROM agents WHERE agency_id = $1', [a.agencyId]);
      for (const { id } of rows) expect(seenByB).not.toContain(id);
    });

    it("an agency's API settings show its own webhook_url, not another agency's", async () => {
      await api()
        .patch('/api/v1/integrations/api')
        .set('Authorization', a.owner.auth)
        .send({ webhook_url: 'https://hooks.a-agency.test/x' })
        .expect(200);
      const ofA = await api().get('/api/v1/integrations/api').set('Authorization', a.member.auth).expect(200);
      expect(ofA.body.data.webhook_url).toBe('https://hooks.a-agency.test/x');
      const ofB = await api().get('/api/v1/integrations/api').set('Authorization', b.owner.auth).expect(200);
      expect(ofB.body.data.webhook_url).not.toBe('https://hooks.a-agency.test/x');
      expect(JSON.stringify(ofB.body)).not.toContain('a-agency.test');
    });

    it("an agency's Ultravox settings show its own ingest URL", async () => {
      const ofB = await api()
        .get('/api/v1/integrations/ultravox')
        .set('Authorization', b.owner.auth)
        .expect(200);
      expect(ofB.body.data.webhook_url).toContain(`/functions/v1/webhook-ingest/${b.agencyId}/`);
      expect(ofB.body.data.webhook_url).not.toContain(a.agencyId);
    });

    it("an agency cannot set another agency's agent as its default agent (404 agent_not_found)", async () => {
      const agent = await createAgent(a.owner.auth, 'Default of A');
      const res = await api()
        .patch('/api/v1/integrations/api')
        .set('Authorization', b.owner.auth)
        .send({ default_agent_id: agent.id })
        .expect(404);
      expect(res.body).toEqual(errorBody('agent_not_found'));
      const ofB = await api().get('/api/v1/integrations/api').set('Authorization', b.owner.auth).expect(200);
      expect(ofB.body.data.default_agent_id).not.toBe(agent.id);
    });

    it("an agency's API key cannot read another agency's agent (404)", async () => {
      const agent = await createAgent(a.owner.auth, 'Hidden from B key');
      const keyOfB = `Bearer ${await generateApiKey(t, b.owner)}`;
      const res = await api().get(`/api/v1/agents/${agent.id}`).set('Authorization', keyOfB).expect(404);
      expect(res.body).toEqual(errorBody('agent_not_found'));
      const list = await api()
        .get('/api/v1/agents')
        .query({ limit: 100 })
        .set('Authorization', keyOfB)
        .expect(200);
      expect(list.body.data.map((x: { id: string }) => x.id)).not.toContain(agent.id);
    });

    it("an agency's API key cannot change or delete another agency's agent (404)", async () => {
      const agent = await createAgent(a.owner.auth, 'Guarded from B key');
      const keyOfB = `Bearer ${await generateApiKey(t, b.owner)}`;
      await api()
        .patch(`/api/v1/agents/${agent.id}`)
        .set('Authorization', keyOfB)
        .send({ name: 'Taken' })
        .expect(404);
      await api().delete(`/api/v1/agents/${agent.id}`).set('Authorization', keyOfB).expect(404);
      const again = await api()
        .get(`/api/v1/agents/${agent.id}`)
        .set('Authorization', a.owner.auth)
        .expect(200);
      expect(again.body.data).toEqual(agent);
    });
  });

  describe('agency API keys', () => {
    it.each([
      ['GET', '/api/v1/integrations/ultravox'],
      ['GET', '/api/v1/integrations/api'],
      ['POST', '/api/v1/integrations/api/key'],
      ['POST', '/functions/v1/save-ultravox-integration'],
    ])('are refused on the JWT-only route %s %s (401)', async (method, path) => {
      const fresh = await createAgency(t, 'Key on JWT route agency');
      const key = await generateApiKey(t, fresh.owner);
      const req = method === 'GET' ? api().get(path) : api().post(path).send({});
      const res = await req.set('Authorization', `Bearer ${key}`).expect(401);
      expect(res.body).toEqual(errorBody('unauthorized'));
    });

    it('an unknown API key answers 401', async () => {
      const res = await api()
        .get('/api/v1/agents')
        .set('Authorization', `Bearer sb_live_${randomBytes(32).toString('base64url')}`)
        .expect(401);
      expect(res.body).toEqual(errorBody('unauthorized'));
    });

    it('generating a new key revokes the previous one at once', async () => {
      const fresh = await createAgency(t, 'Key rotation agency');
      const first = await generateApiKey(t, fresh.owner);
      await api().get('/api/v1/agents').set('Authorization', `Bearer ${first}`).expect(200);
      const second = await generateApiKey(t, fresh.owner);
      const res = await api().get('/api/v1/agents').set('Authorization', `Bearer ${first}`).expect(401);
      expect(res.body).toEqual(errorBody('unauthorized'));
      await api().get('/api/v1/agents').set('Authorization', `Bearer ${second}`).expect(200);
    });

    it('every request with the key answers 403 api_disabled while API access is disabled', async () => {
      const fresh = await createAgency(t, 'Disabled API agency');
      const key = `Bearer ${await generateApiKey(t, fresh.owner)}`;
      await api()
        .patch('/api/v1/integrations/api')
        .set('Authorization', fresh.admin.auth)
        .send({ enabled: false })
        .expect(200);
      const read = await api().get('/api/v1/agents').set('Authorization', key).expect(403);
      expect(read.body).toEqual(errorBody('api_disabled'));
      const write = await api()
        .post('/api/v1/agents')
        .set('Authorization', key)
        .send({ name: 'Blocked', ultravox_agent_id: 'uv-blocked' })
        .expect(403);
      expect(write.body).toEqual(errorBody('api_disabled'));
      await api().get('/api/v1/agents').set('Authorization', fresh.member.auth).expect(200);
      await api()
        .patch('/api/v1/integrations/api')
        .set('Authorization', fresh.owner.auth)
        .send({ enabled: true })
        .expect(200);
      await api().get('/api/v1/agents').set('Authorization', key).expect(200);
    });
  });
});
