import { randomBytes } from 'node:crypto';
import { startUltravoxSim, UltravoxSim } from '../tools/ultravox-sim/server';
import { ultravoxKey } from './support/fixtures';
import { PrivatePostgres, PrivateRedis } from './support/private-services';
import { childEnv, clearRedisPrefix, CLI_JS, runNode, SpawnedServer, startServer } from './support/spawn';
import { createTestDatabase, testEnv } from './support/test-app';
import { waitFor } from './support/wait';

/**
 * Issue 11, point 4: while Postgres or Redis is unreachable, requests that need it answer 503
 * `service_unavailable` with Retry-After (CONTRACT §4) instead of hanging or answering 500; every log
 * line stays one JSON object; and the app (API and workers, APP_ROLE=all) recovers by itself when the
 * service returns. Each case stops a private instance of its own, never the shared ones.
 */

interface Answer {
  status: number;
  headers: Headers;
  body: {
    success?: boolean;
    error?: { code: string; message: string; details?: { field: string }[] };
  } & Record<string, unknown>;
}

/** One request; the client gives up after 10 s, so a request left hanging fails the test. */
async function call(server: SpawnedServer, method: string, path: string, auth?: string, body?: unknown) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      ...(auth ? { authorization: auth } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : {} } as Answer;
}

interface Agency {
  owner: string;
  apiKey: string;
}

/** An agency able to place calls, made as an operator would: the CLI, then the API. */
async function callingAgency(server: SpawnedServer, env: Record<string, string>): Promise<Agency> {
  const email = `owner-${randomBytes(4).toString('hex')}@faults.test`;
  const created = await runNode(
    CLI_JS,
    ['agency:create', '--name', 'Faults', '--owner-email', email],
    childEnv(env),
  );
  const owner = `Bearer ${(JSON.parse(created.stdout) as { token: string }).token}`;
  const saved = await call(server, 'POST', '/functions/v1/save-ultravox-integration', owner, {
    api_key: ultravoxKey(),
  });
  expect(saved.status).toBe(200);
  const agent = await call(server, 'POST', '/api/v1/agents', owner, {
    name: 'Agent',
    ultravox_agent_id: '7f1a3c2e-1111-4111-8111-111111111111',
    phone_number: '+15550001111',
  });
  expect(agent.status).toBe(201);
  const agentId = (agent.body.data as { id: string }).id;
  expect(
    (await call(server, 'PATCH', '/api/v1/integrations/api', owner, { default_agent_id: agentId })).status,
  ).toBe(200);
  const key = await call(server, 'POST', '/api/v1/integrations/api/key', owner);
  expect(key.status).toBe(200);
  return { owner, apiKey: `Bearer ${key.body.api_key as string}` };
}

let phoneSuffix = 1000;
const trigger = (server: SpawnedServer, agency: Agency) =>
  call(server, 'POST', '/api/trigger-call', agency.apiKey, { phone: `+1555012${phoneSuffix++}` });

/** Waits until Ultravox (the simulator) has the call: the worker dialed it. */
async function dialed(server: SpawnedServer, agency: Agency, callId: string): Promise<void> {
  await waitFor(
    async () => {
      const res = await call(server, 'GET', `/api/v1/calls/${callId}`, agency.owner);
      return res.status === 200 && (res.body.data as { ultravox_call_id: string | null }).ultravox_call_id;
    },
    30_000,
    `call ${callId} to be dialed`,
  );
}

/** GET /health's answer once it names `dependency` down (its own 503 shape). */
function healthSaysDown(server: SpawnedServer, dependency: string) {
  return waitFor(
    async () => {
      const res = await call(server, 'GET', '/health');
      return res.status === 503 && res.body.error?.details?.some((d) => d.field === dependency) && res;
    },
    20_000,
    `/health to report ${dependency} down`,
  );
}

const healthy = (server: SpawnedServer) =>
  waitFor(async () => (await call(server, 'GET', '/health')).status === 200, 30_000, '/health to answer 200');

/** The contract's outage answer. */
function expectUnavailable(res: Answer): void {
  expect({ status: res.status, body: res.body }).toEqual({
    status: 503,
    body: {
      success: false,
      error: expect.objectContaining({ code: 'service_unavailable', message: expect.any(String) }),
    },
  });
  expect(res.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
}

/** Every line the process wrote, stdout and stderr. */
function outputLines(server: SpawnedServer): string[] {
  const { stdout, stderr } = server.output();
  return `${stdout}\n${stderr}`.split('\n').filter((line) => line.trim() !== '');
}

function notJsonObjects(lines: string[]): string[] {
  return lines.filter((line) => {
    try {
      const value: unknown = JSON.parse(line);
      return typeof value !== 'object' || value === null || Array.isArray(value);
    } catch {
      return true;
    }
  });
}

const records = (server: SpawnedServer) =>
  outputLines(server).flatMap((line) => {
    try {
      return [JSON.parse(line) as { level: number; msg?: string; source?: string }];
    } catch {
      return [];
    }
  });

/** Per source, the "connection lost" warnings it logged (one per outage, however long). */
function connectionLostCounts(server: SpawnedServer): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of records(server)) {
    if (r.source && r.msg?.includes('connection lost')) counts[r.source] = (counts[r.source] ?? 0) + 1;
  }
  return counts;
}

const reachableAgain = (server: SpawnedServer, source: string) =>
  waitFor(
    () => records(server).some((r) => r.source === source && r.msg?.includes('reachable again')),
    30_000,
    `${source} to log its recovery`,
  );

describe('infrastructure faults (node dist/src/main.js, APP_ROLE=all)', () => {
  let sim: UltravoxSim;

  beforeAll(async () => {
    sim = await startUltravoxSim({ timeScale: 0.05 });
  });
  afterAll(async () => {
    await sim?.close();
  });

  const serviceEnv = (databaseUrl: string, overrides: Record<string, string>) =>
    testEnv(databaseUrl, {
      ULTRAVOX_API_BASE_URL: sim.url,
      CALLS_SWEEP_INTERVAL_MS: '500',
      LOG_LEVEL: 'info',
      ...overrides,
    });

  describe('Redis stops, then comes back', () => {
    let redis: PrivateRedis;
    let db: Awaited<ReturnType<typeof createTestDatabase>>;
    let env: Record<string, string>;
    let server: SpawnedServer;
    /** A second API process of the same deployment, without rate limits: nothing in it needs Redis. */
    let unlimited: SpawnedServer;
    let agency: Agency;

    beforeAll(async () => {
      redis = await PrivateRedis.start();
      db = await createTestDatabase();
      env = serviceEnv(db.url, { REDIS_URL: redis.url });
      server = await startServer(childEnv(env));
      unlimited = await startServer(childEnv({ ...env, APP_ROLE: 'api', API_RATE_LIMIT_PER_MINUTE: '0' }));
      agency = await callingAgency(server, env);
    });
    afterAll(async () => {
      await unlimited?.stop(5_000);
      await server?.stop(5_000);
      await redis?.stop();
      await db?.drop();
    });

    it('answers 503 with Retry-After where Redis is needed, logs only JSON, and recovers', async () => {
      const before = await trigger(server, agency);
      expect(before.status).toBe(200);
      await dialed(server, agency, before.body.call_id as string);

      await redis.stop();
      const health = await healthSaysDown(server, 'redis');
      expect(health.body.error?.code).toBe('unhealthy');

      // API-key routes count requests in Redis (API_RATE_LIMIT_PER_MINUTE): they cannot answer.
      expectUnavailable(await trigger(server, agency));
      expectUnavailable(await call(server, 'GET', '/api/v1/calls', agency.apiKey));
      // A route that needs only Postgres keeps working.
      expect((await call(server, 'GET', '/api/v1/calls', agency.owner)).status).toBe(200);
      // Without rate limits a trigger-call stores its call and answers; the dial job is left to the
      // calls sweeper (it used to wait in the Redis client's offline queue for as long as Redis was down).
      const stored = await trigger(unlimited, agency);
      expect(stored.status).toBe(200);

      await redis.start();
      await healthy(server);
      const after = await trigger(server, agency);
      expect(after.status).toBe(200);
      await dialed(server, agency, after.body.call_id as string);
      await dialed(server, agency, stored.body.call_id as string);

      await reachableAgain(server, 'redis client');
      await reachableAgain(unlimited, 'redis client');
      expect(notJsonObjects([...outputLines(server), ...outputLines(unlimited)])).toEqual([]);
      const lost = connectionLostCounts(server);
      expect(lost).toEqual(expect.objectContaining({ 'redis client': 1 }));
      expect(Math.max(...Object.values(lost))).toBe(1);
    });
  });

  describe('Postgres stops, then comes back', () => {
    let pg: PrivatePostgres;
    let env: Record<string, string>;
    let server: SpawnedServer;
    let agency: Agency;

    beforeAll(async () => {
      pg = await PrivatePostgres.start();
      env = serviceEnv(pg.url, {});
      server = await startServer(childEnv(env));
      agency = await callingAgency(server, env);
    });
    afterAll(async () => {
      await server?.stop(5_000);
      await pg?.remove();
      if (env) await clearRedisPrefix(env.REDIS_PREFIX);
    });

    it('answers 503 with Retry-After instead of 500, logs only JSON, and recovers', async () => {
      await pg.stop();
      await healthSaysDown(server, 'postgres');

      expectUnavailable(await trigger(server, agency));
      expectUnavailable(await call(server, 'GET', '/api/v1/calls', agency.owner));
      expectUnavailable(await call(server, 'GET', '/api/v1/agents', agency.apiKey));
      // The workers' periodic passes say so too, once.
      await waitFor(
        () => connectionLostCounts(server).CallsSweeper,
        20_000,
        'the calls sweeper to log the outage',
      );

      await pg.start();
      await healthy(server);
      const after = await trigger(server, agency);
      expect(after.status).toBe(200);
      await dialed(server, agency, after.body.call_id as string);

      await reachableAgain(server, 'CallsSweeper');
      expect(notJsonObjects(outputLines(server))).toEqual([]);
      expect(Math.max(...Object.values(connectionLostCounts(server)))).toBe(1);
    });
  });
});
