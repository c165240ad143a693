import { Client } from 'pg';
import { prepareDatabase, runMigrations } from '../src/database/migrate';
import { migrations } from '../src/database/migrations';
import {
  childEnv,
  clearRedisPrefix,
  freePort,
  MAIN_JS,
  MIGRATE_JS,
  runNode,
  spawnNode,
  waitUntilHealthy,
} from './support/spawn';
import { createTestDatabase, testEnv } from './support/test-app';

type TestDatabase = Awaited<ReturnType<typeof createTestDatabase>>;

const ALL_MIGRATIONS = migrations.map((M) => new M().name ?? M.name);
const CORE_TABLES = ['agencies', 'users', 'api_keys', 'agents'];

async function query<T>(url: string, sql: string): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Names in the `migrations` table, in the order they were applied. */
const recorded = async (url: string) =>
  (await query<{ name: string }>(url, 'SELECT name FROM migrations ORDER BY id')).map((r) => r.name);

const tables = async (url: string) =>
  (
    await query<{ table_name: string }>(
      url,
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
    )
  ).map((r) => r.table_name);

/** A database name (and URL) that is free: created by the harness, then dropped again. */
async function missingDatabase(): Promise<TestDatabase> {
  const db = await createTestDatabase();
  await db.drop();
  return db;
}

describe('migrations', () => {
  const databases: TestDatabase[] = [];
  const track = (db: TestDatabase) => (databases.push(db), db);

  afterAll(async () => {
    for (const db of databases) await db.drop();
  });

  it('knows at least one migration', () => {
    expect(ALL_MIGRATIONS.length).toBeGreaterThan(0);
  });

  it('prepareDatabase creates a missing database and applies every migration', async () => {
    const db = track(await missingDatabase());
    await expect(prepareDatabase(db.url, true)).resolves.toEqual(ALL_MIGRATIONS);
    expect(await recorded(db.url)).toEqual(ALL_MIGRATIONS);
    expect(await tables(db.url)).toEqual(expect.arrayContaining([...CORE_TABLES, 'migrations']));
  });

  it('running again applies nothing', async () => {
    const db = track(await createTestDatabase());
    await prepareDatabase(db.url, true);
    await expect(runMigrations(db.url)).resolves.toEqual([]);
    await expect(prepareDatabase(db.url, true)).resolves.toEqual([]);
    expect(await recorded(db.url)).toEqual(ALL_MIGRATIONS);
  });

  it('two replicas migrating one fresh database at once both succeed, each migration recorded once', async () => {
    const db = track(await createTestDatabase());
    const [first, second] = await Promise.all([prepareDatabase(db.url, true), prepareDatabase(db.url, true)]);
    expect([...first, ...second].sort()).toEqual([...ALL_MIGRATIONS].sort());
    expect(await recorded(db.url)).toEqual(ALL_MIGRATIONS);
  });

  it('two replicas starting at once on a missing database both succeed', async () => {
    const db = track(await missingDatabase());
    const results = await Promise.allSettled([prepareDatabase(db.url, true), prepareDatabase(db.url, true)]);
    expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'fulfilled'))).toEqual([
      'fulfilled',
      'fulfilled',
    ]);
    expect(await recorded(db.url)).toEqual(ALL_MIGRATIONS);
  });

  it('with DB_MIGRATIONS_RUN=false the server leaves an empty database without tables', async () => {
    const db = track(await createTestDatabase());
    const env = testEnv(db.url, { DB_MIGRATIONS_RUN: 'false', HOST: '127.0.0.1' });
    const port = await freePort();
    const server = spawnNode(MAIN_JS, [], childEnv({ ...env, PORT: String(port) }));
    try {
      // Up (or already gone, which is allowed): either way start-up is over; once it has exited, nothing
      // of it can still create a table.
      await waitUntilHealthy(`http://127.0.0.1:${port}`, server);
      await server.stop();
      expect(await tables(db.url)).not.toContain('agencies');
      expect(await tables(db.url)).not.toContain('migrations');
    } finally {
      await server.stop();
      await clearRedisPrefix(env.REDIS_PREFIX);
    }
  });

  it('migrate.js (npm run migration:run) creates the database, applies everything and prints what it applied', async () => {
    const db = track(await missingDatabase());
    const env = childEnv(testEnv(db.url));

    const first = await runNode(MIGRATE_JS, [], env);
    expect({ code: first.code, stderr: first.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(first.stdout)).toEqual({ applied: ALL_MIGRATIONS });
    expect(await tables(db.url)).toEqual(expect.arrayContaining(CORE_TABLES));

    const again = await runNode(MIGRATE_JS, [], env);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ applied: [] });
  });
});
