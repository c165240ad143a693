import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import Redis from 'ioredis';
import { TEST_ADMIN_DATABASE_URL, TEST_REDIS_URL } from './env';

/** Fails fast, with a useful message, when the real services the e2e specs need are not there. */
export default async function globalSetup(): Promise<void> {
  const pg = new Client({ connectionString: TEST_ADMIN_DATABASE_URL });
  try {
    await pg.connect();
    await pg.query('select 1');
  } catch (err) {
    throw new Error(
      `e2e tests need Postgres at ${TEST_ADMIN_DATABASE_URL} (run scripts/ensure-services.sh): ${String(err)}`,
    );
  } finally {
    await pg.end().catch(() => undefined);
  }
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(
      `e2e tests need Redis at ${TEST_REDIS_URL} (run scripts/ensure-services.sh): ${String(err)}`,
    );
  } finally {
    redis.disconnect();
  }
  if (!existsSync(join(__dirname, '..', '..', 'dist', 'src', 'main.js'))) {
    throw new Error(
      'e2e tests start the built service as a child process: run `npm run build` first (npm test does)',
    );
  }
}
