import { NestFactory } from '@nestjs/core';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { AppModule } from '../../src/app.module';
import { APP_OPTIONS, configureApp, createFastifyAdapter } from '../../src/app.setup';
import { Clock } from '../../src/common/clock';
import { buildAppConfig } from '../../src/config/app-config';
import { prepareDatabase } from '../../src/database/migrate';
import { TEST_ADMIN_DATABASE_URL, TEST_REDIS_URL } from './env';
import { clearRedisPrefix, freePort } from './spawn';
import { TestClock } from './test-clock';

export interface TestApp {
  /** e.g. http://127.0.0.1:40123 */
  url: string;
  app: NestFastifyApplication;
  /** The environment the app was started with (secrets included, for assertions). */
  env: Record<string, string>;
  /** A direct connection to this app's own database, for asserting what was stored. */
  db: Client;
  /** The app's Clock: real time until a test freezes it. */
  clock: TestClock;
  close(): Promise<void>;
}

/** A fresh, empty database (and its URL) that no other spec file touches. */
export async function createTestDatabase(): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `sb_test_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: TEST_ADMIN_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(TEST_ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      const client = new Client({ connectionString: TEST_ADMIN_DATABASE_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** The environment of a test app: real Postgres and Redis, its own database and Redis prefix. */
export function testEnv(databaseUrl: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: `sbtest:${randomBytes(4).toString('hex')}`,
    JWT_SECRET: randomBytes(24).toString('hex'),
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    ULTRAVOX_API_BASE_URL: 'http://127.0.0.1:9',
    ULTRAVOX_TIMEOUT_MS: '1500',
    PUBLIC_BASE_URL: 'https://switchboard.test',
    WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
    LOG_LEVEL: 'silent',
    ...overrides,
  };
}

/**
 * Boots the real application, through the same configureApp as production, on a random loopback port,
 * with every Clock reading one TestClock. `overrides` apply to this app alone (process.env is left
 * as it was).
 */
export async function startTestApp(
  overrides: Record<string, string> = {},
  options: { reachable?: boolean } = {},
): Promise<TestApp> {
  const database = await createTestDatabase();
  // `reachable`: PUBLIC_BASE_URL is this app's real address, so the simulator's webhooks arrive.
  const port = options.reachable ? await freePort() : 0;
  const env = testEnv(
    database.url,
    port ? { PUBLIC_BASE_URL: `http://127.0.0.1:${port}`, ...overrides } : overrides,
  );
  // Not written to process.env: a second stack in the same spec file starts from the defaults again.
  const config = buildAppConfig({ ...process.env, ...env });
  await prepareDatabase(config.databaseUrl, true);
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config),
    createFastifyAdapter(),
    {
      ...APP_OPTIONS,
      logger: false,
    },
  );
  // Every module's Clock reads the TestClock. (Test.createTestingModule's overrideProvider would build
  // the modules before the HTTP adapter exists, and a module that registers a body parser then cannot.)
  const clock = new TestClock();
  for (const instance of app.get(Clock, { strict: false, each: true })) {
    instance.now = () => clock.now();
  }
  configureApp(app);
  await app.listen(port, '127.0.0.1');
  const db = new Client({ connectionString: database.url });
  await db.connect();
  return {
    url: (await app.getUrl()).replace('[::1]', '127.0.0.1'),
    app,
    env,
    db,
    clock,
    close: async () => {
      await db.end();
      await app.close();
      await clearRedisPrefix(env.REDIS_PREFIX);
      await database.drop();
    },
  };
}
