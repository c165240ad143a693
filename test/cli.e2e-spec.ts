import { randomBytes, randomUUID } from 'node:crypto';
import { jwtVerify } from 'jose';
import { Client } from 'pg';
import request from 'supertest';
import {
  childEnv,
  CLI_JS,
  clearRedisPrefix,
  Exit,
  runNode,
  SpawnedServer,
  startServer,
} from './support/spawn';
import { createTestDatabase, testEnv } from './support/test-app';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const JWT = /^[\w-]+\.[\w-]+\.[\w-]+$/;

const uniqueEmail = (label: string) => `${label}-${randomBytes(4).toString('hex')}@acme.test`;

/** The JSON object a successful command printed: exit 0, one JSON document on stdout, none on stderr. */
function printed(result: Exit): Record<string, string> {
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
  expect(result.stderr).not.toMatch(/[{}]/);
  expect(result.stdout.trim().split('\n')).toHaveLength(1);
  return JSON.parse(result.stdout) as Record<string, string>;
}

function payloadOf(token: string): Record<string, unknown> {
  const json = Buffer.from(token.split('.')[1], 'base64url').toString('utf8');
  return JSON.parse(json) as Record<string, unknown>;
}

describe('operator CLI (node dist/src/cli.js)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string>;
  let server: SpawnedServer | undefined;

  const cli = (...args: string[]) => runNode(CLI_JS, args, childEnv(env));
  const createAgency = async (name = 'Acme') =>
    printed(await cli('agency:create', '--name', name, '--owner-email', uniqueEmail('owner')));

  beforeAll(async () => {
    db = await createTestDatabase();
    env = testEnv(db.url);
    server = await startServer(childEnv(env));
  });

  afterAll(async () => {
    await server?.stop();
    if (env) await clearRedisPrefix(env.REDIS_PREFIX);
    await db?.drop();
  });

  it('agency:create prints the agency, its owner and a token the API accepts', async () => {
    const result = printed(await cli('agency:create', '--name', 'Acme', '--owner-email', 'owner@acme.test'));
    expect(result).toEqual({
      agency_id: expect.stringMatching(UUID),
      user_id: expect.stringMatching(UUID),
      token: expect.stringMatching(JWT),
    });
    const res = await request(server!.url)
      .get('/api/v1/integrations/api')
      .set('Authorization', `Bearer ${result.token}`)
      .expect(200);
    expect(res.body.success).toBe(true);
  });

  it('user:add prints the user and a token whose role the API enforces', async () => {
    const { agency_id } = await createAgency();
    const admin = printed(
      await cli('user:add', '--agency', agency_id, '--email', uniqueEmail('admin'), '--role', 'agency_admin'),
    );
    expect(admin).toEqual({ user_id: expect.stringMatching(UUID), token: expect.stringMatching(JWT) });
    const member = printed(
      await cli(
        'user:add',
        '--agency',
        agency_id,
        '--email',
        uniqueEmail('member'),
        '--role',
        'agency_member',
      ),
    );

    await request(server!.url)
      .patch('/api/v1/integrations/api')
      .set('Authorization', `Bearer ${admin.token}`)
      .send({ enabled: true })
      .expect(200);
    await request(server!.url)
      .get('/api/v1/integrations/api')
      .set('Authorization', `Bearer ${member.token}`)
      .expect(200);
    await request(server!.url)
      .patch('/api/v1/integrations/api')
      .set('Authorization', `Bearer ${member.token}`)
      .send({ enabled: true })
      .expect(403);
  });

  it('token issues a 24-hour token for an existing user, signed with JWT_SECRET', async () => {
    const { user_id } = await createAgency();
    const result = printed(await cli('token', '--user', user_id));
    expect(result).toEqual({ token: expect.stringMatching(JWT) });

    const payload = payloadOf(result.token);
    expect(payload).toMatchObject({ sub: user_id, aud: 'authenticated' });
    expect((payload.exp as number) - (payload.iat as number)).toBe(86_400);
    await expect(
      jwtVerify(result.token, new TextEncoder().encode(env.JWT_SECRET), { audience: 'authenticated' }),
    ).resolves.toBeDefined();
    await request(server!.url)
      .get('/api/v1/integrations/api')
      .set('Authorization', `Bearer ${result.token}`)
      .expect(200);
  });

  describe('refusals: non-zero exit, nothing on stdout, one line on stderr saying what is wrong', () => {
    let agencyId: string;
    const takenEmail = uniqueEmail('taken');
    const missingId = randomUUID();

    beforeAll(async () => {
      agencyId = printed(
        await cli('agency:create', '--name', 'Taken', '--owner-email', takenEmail),
      ).agency_id;
    });

    const cases: [string, () => string[], RegExp][] = [
      ['an unknown command', () => ['agency:delete', '--name', 'Acme'], /usage|unknown command/i],
      ['agency:create without --name', () => ['agency:create', '--owner-email', uniqueEmail('x')], /--name/],
      [
        'a malformed email',
        () => ['agency:create', '--name', 'Acme', '--owner-email', 'not-an-email'],
        /email/i,
      ],
      [
        'a role that is not one of the three',
        () => ['user:add', '--agency', agencyId, '--email', uniqueEmail('r'), '--role', 'superuser'],
        /role/i,
      ],
      [
        'an agency that does not exist',
        () => ['user:add', '--agency', missingId, '--email', uniqueEmail('r'), '--role', 'agency_member'],
        new RegExp(`agency.*${missingId}`, 'i'),
      ],
      [
        'an email that is already taken (agency:create)',
        () => ['agency:create', '--name', 'Again', '--owner-email', takenEmail],
        new RegExp(`${takenEmail}.*already exists`),
      ],
      [
        'an email that is already taken (user:add)',
        () => ['user:add', '--agency', agencyId, '--email', takenEmail, '--role', 'agency_member'],
        new RegExp(`${takenEmail}.*already exists`),
      ],
      [
        'token for a user that does not exist',
        () => ['token', '--user', missingId],
        new RegExp(`user.*${missingId}`, 'i'),
      ],
    ];

    it.each(cases)('%s', async (_, args, reason) => {
      const result = await cli(...args());
      expect(result.code).not.toBe(0);
      expect(result.timedOut).toBe(false);
      expect(result.stdout).toBe('');
      const lines = result.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(reason);
    });

    it('a refused agency:create stores nothing', async () => {
      const client = new Client({ connectionString: db.url });
      await client.connect();
      try {
        const count = async () =>
          (await client.query('SELECT count(*)::int AS n FROM agencies')).rows[0].n as number;
        const before = await count();
        expect((await cli('agency:create', '--name', 'Dup', '--owner-email', takenEmail)).code).not.toBe(0);
        expect((await cli('agency:create', '--name', 'Bad', '--owner-email', 'nope')).code).not.toBe(0);
        expect(await count()).toBe(before);
      } finally {
        await client.end();
      }
    });
  });

  it('creates the database named in DATABASE_URL when it does not exist', async () => {
    const fresh = await createTestDatabase();
    await fresh.drop();
    try {
      const result = printed(
        await runNode(
          CLI_JS,
          ['agency:create', '--name', 'Fresh', '--owner-email', uniqueEmail('fresh')],
          childEnv(testEnv(fresh.url)),
        ),
      );
      const client = new Client({ connectionString: fresh.url });
      await client.connect();
      try {
        const { rows } = await client.query('SELECT name FROM agencies WHERE id = $1', [result.agency_id]);
        expect(rows).toEqual([{ name: 'Fresh' }]);
      } finally {
        await client.end();
      }
    } finally {
      await fresh.drop();
    }
  });
});
