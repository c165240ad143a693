import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import {
  childEnv,
  clearRedisPrefix,
  freePort,
  MAIN_JS,
  runNode,
  spawnNode,
  startServer,
  workersConnected,
} from './support/spawn';
import { createTestDatabase, testEnv } from './support/test-app';

type Env = Record<string, string>;

const without = (env: Env, ...names: string[]): Env =>
  Object.fromEntries(Object.entries(env).filter(([name]) => !names.includes(name)));

/** Whether anything accepts TCP connections on the loopback port. */
const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

describe('configuration validated at boot (node dist/src/main.js)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Env;

  beforeAll(async () => {
    db = await createTestDatabase();
    env = { ...testEnv(db.url), HOST: '127.0.0.1' };
  });

  afterAll(async () => {
    if (env) await clearRedisPrefix(env.REDIS_PREFIX);
    await db?.drop();
  });

  const invalid: [string, (valid: Env) => Env, string][] = [
    ['ENCRYPTION_KEY is missing', (e) => without(e, 'ENCRYPTION_KEY'), 'ENCRYPTION_KEY'],
    [
      'ENCRYPTION_KEY is base64 of 16 bytes',
      (e) => ({ ...e, ENCRYPTION_KEY: randomBytes(16).toString('base64') }),
      'ENCRYPTION_KEY',
    ],
    [
      'neither JWT_SECRET nor JWT_JWKS_URL is set',
      (e) => without(e, 'JWT_SECRET', 'JWT_JWKS_URL'),
      'JWT_SECRET',
    ],
    ['APP_ROLE is not api, worker or all', (e) => ({ ...e, APP_ROLE: 'bogus' }), 'APP_ROLE'],
    [
      'WEBHOOK_RETRY_DELAYS is not a list of durations',
      (e) => ({ ...e, WEBHOOK_RETRY_DELAYS: 'soon' }),
      'WEBHOOK_RETRY_DELAYS',
    ],
    ['METRICS_PORT is not a port', (e) => ({ ...e, METRICS_PORT: '70000' }), 'METRICS_PORT'],
    ['METRICS_TOKEN is too short to be a secret', (e) => ({ ...e, METRICS_TOKEN: 'short' }), 'METRICS_TOKEN'],
    [
      'ENCRYPTION_KEYS_PREVIOUS holds a bad entry',
      (e) => ({ ...e, ENCRYPTION_KEYS_PREVIOUS: `${randomBytes(32).toString('base64')},not-a-key` }),
      'ENCRYPTION_KEYS_PREVIOUS',
    ],
  ];

  it.each(invalid)('exits non-zero naming the variable when %s', async (_, broken, variable) => {
    const port = await freePort();
    const result = await runNode(MAIN_JS, [], childEnv(broken({ ...env, PORT: String(port) })), 15_000);
    expect(result.timedOut).toBe(false);
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBeNull();
    expect(result.stderr).toContain(variable);
  });

  it('starts the API alone with APP_ROLE=api and reports healthy', async () => {
    const server = await startServer(childEnv({ ...env, APP_ROLE: 'api' }));
    try {
      const res = await fetch(`${server.url}/health`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'ok' });
    } finally {
      await server.stop();
    }
  });

  it('runs the workers alone with APP_ROLE=worker, serving no API on PORT, until SIGTERM', async () => {
    const [port, metricsPort] = [await freePort(), await freePort()];
    const worker = spawnNode(
      MAIN_JS,
      [],
      childEnv({ ...env, APP_ROLE: 'worker', PORT: String(port), METRICS_PORT: String(metricsPort) }),
    );
    try {
      await Promise.race([workersConnected(env.REDIS_PREFIX), worker.exited]);
      expect(worker.running()).toBe(true);
      expect(await listening(port)).toBe(false);
    } finally {
      const exit = await worker.stop();
      expect(exit.timedOut).toBe(false);
      expect(exit.code === 0 || exit.signal === 'SIGTERM').toBe(true);
    }
  });
});
