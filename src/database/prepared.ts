import type { DataSource, EntityManager } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import type { PostgresQueryRunner } from 'typeorm/driver/postgres/PostgresQueryRunner';

/**
 * A statement run as a named prepared statement: Postgres parses and plans it once per connection
 * instead of on every execution (what TypeORM's `query` does). For the hot paths only — ingest,
 * trigger, delivery — where that parse/plan is a large share of each request's database time.
 * Errors are pg's own (`code`, `detail`, …), not TypeORM's QueryFailedError.
 */
export interface PreparedStatement {
  readonly name: string;
  readonly text: string;
}

const names = new Set<string>();

/** Declares a statement once, at module level; names must be unique in the process. */
export function prepared(name: string, text: string): PreparedStatement {
  if (names.has(name)) throw new Error(`prepared statement "${name}" is declared twice`);
  names.add(name);
  return { name, text };
}

interface PgQueryable {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

/**
 * Runs `statement` on the pool of `source`, or — given an EntityManager inside a transaction — on that
 * transaction's connection, and returns its rows (RETURNING rows for INSERT/UPDATE).
 */
export async function runPrepared<Row>(
  source: DataSource | EntityManager,
  statement: PreparedStatement,
  values: unknown[],
): Promise<Row[]> {
  const result = await queryable(source).then((db) =>
    db.query({ name: statement.name, text: statement.text, values }),
  );
  return result.rows as Row[];
}

/**
 * The rows of a batch statement over `unnest(…) WITH ORDINALITY AS …(…, ord)` that selects `ord`, put
 * back in the order of its `count` inputs: null for an input that produced no row.
 */
export function byOrdinality<Row extends { ord: string | number }>(
  rows: readonly Row[],
  count: number,
): (Row | null)[] {
  const ordered = new Array<Row | null>(count).fill(null);
  for (const row of rows) ordered[Number(row.ord) - 1] = row;
  return ordered;
}

async function queryable(source: DataSource | EntityManager): Promise<PgQueryable> {
  if ('driver' in source) return (source.driver as PostgresDriver).master as PgQueryable;
  const runner = source.queryRunner as PostgresQueryRunner | undefined;
  if (!runner) return (source.connection.driver as PostgresDriver).master as PgQueryable;
  return (await runner.connect()) as PgQueryable;
}
