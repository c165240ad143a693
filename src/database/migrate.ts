import 'reflect-metadata';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { DEFAULT_DATABASE_URL } from '../config/app-config';
import { dataSourceOptions } from './data-source-options';

/** Arbitrary but fixed: every replica takes the same advisory lock around migrations. */
const MIGRATION_LOCK_ID = 7_240_311_901;

export class DatabaseSetupError extends Error {}

function databaseName(databaseUrl: string): string {
  return decodeURIComponent(new URL(databaseUrl).pathname.replace(/^\//, '')) || 'postgres';
}

/** Creates the database named in the URL when it is missing and this role may; otherwise says how. */
export async function ensureDatabaseExists(databaseUrl: string): Promise<void> {
  const name = databaseName(databaseUrl);
  const probe = new Client({ connectionString: databaseUrl });
  try {
    await probe.connect();
    return;
  } catch (err) {
    if ((err as { code?: string }).code !== '3D000') throw err;
  } finally {
    await probe.end().catch(() => undefined);
  }
  const adminUrl = new URL(databaseUrl);
  adminUrl.pathname = '/postgres';
  const admin = new Client({ connectionString: adminUrl.toString() });
  try {
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } catch (err) {
    // 42P04: it exists; 23505: another replica created it a moment ago (pg_database unique index).
    const code = (err as { code?: string }).code;
    if (code === '42P04' || code === '23505') return;
    throw new DatabaseSetupError(
      `Database "${name}" does not exist and could not be created (${(err as Error).message}). ` +
        `Create it with: createdb -h ${adminUrl.hostname} -U <a role allowed to create databases> ${name}`,
    );
  } finally {
    await admin.end().catch(() => undefined);
  }
}

/** Runs pending migrations under a Postgres advisory lock, so replicas starting together do not race. */
export async function runMigrations(databaseUrl: string): Promise<string[]> {
  const dataSource = new DataSource(dataSourceOptions(databaseUrl, { poolSize: 2 }));
  await dataSource.initialize();
  const runner = dataSource.createQueryRunner();
  try {
    await runner.connect();
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    try {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      return applied.map((m) => m.name);
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]);
    }
  } finally {
    await runner.release();
    await dataSource.destroy();
  }
}

export async function prepareDatabase(databaseUrl: string, migrate: boolean): Promise<string[]> {
  await ensureDatabaseExists(databaseUrl);
  return migrate ? runMigrations(databaseUrl) : [];
}

if (require.main === module) {
  prepareDatabase(process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL, true)
    .then((applied) => process.stdout.write(`${JSON.stringify({ applied })}\n`))
    .catch((err: Error) => {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    });
}
