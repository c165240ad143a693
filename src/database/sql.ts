import type { DataSource, EntityManager } from 'typeorm';

/**
 * The data layer's SQL toolkit. Only repositories (`*.repository.ts`) and `src/database/` import it
 * (enforced by .dependency-cruiser.js); services speak to repositories in domain verbs.
 *
 * Queries go through TypeORM's one pool. Hot paths run as named prepared statements through the
 * public QueryRunner API (`connect()` hands out the pg connection), so Postgres parses and plans them
 * once per connection instead of on every execution.
 */

/** Where a repository runs a statement: the pool, or the connection of a transaction (`Tx`). */
export type Db = DataSource | EntityManager;

/**
 * A transaction handle as services see it: they pass it from `Transactions.run` to repositories and
 * never query through it themselves.
 */
export type Tx = EntityManager;

export interface Statement {
  /** Undefined: an unnamed statement, planned for each execution's values. */
  readonly name?: string;
  readonly text: string;
}

const names = new Set<string>();

/**
 * Declares a statement once, at module level; names must be unique in the process.
 *
 * `reusePlan: false` keeps the statement unnamed, so Postgres plans each execution for its actual
 * values. For statements over tables that grow from empty: a named statement's generic plan, fixed
 * while the table was small (a sequential scan), would be kept long after an index is the only sane
 * path.
 */
export function statement(name: string, text: string, options: { reusePlan?: boolean } = {}): Statement {
  if (names.has(name)) throw new Error(`SQL statement "${name}" is declared twice`);
  names.add(name);
  return options.reusePlan === false ? { text } : { name, text };
}

interface PgConnection {
  query(config: { name?: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

/**
 * Runs `stmt` on the pool, or inside the transaction of `db` when it is one, and returns its rows
 * (RETURNING rows for INSERT/UPDATE). Errors are pg's own (`code`, `detail`, …).
 */
export async function runSql<Row>(db: Db, stmt: Statement, values: unknown[]): Promise<Row[]> {
  const config = { name: stmt.name, text: stmt.text, values };
  if (isEntityManager(db) && db.queryRunner) {
    const connection = (await db.queryRunner.connect()) as PgConnection;
    return (await connection.query(config)).rows as Row[];
  }
  const dataSource = isEntityManager(db) ? db.connection : db;
  const runner = dataSource.createQueryRunner();
  try {
    const connection = (await runner.connect()) as PgConnection;
    return (await connection.query(config)).rows as Row[];
  } finally {
    await runner.release();
  }
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

/**
 * SQL string literals from values of a TypeScript union, for statuses written into statement text:
 * `literals<CallStatus>('dialing', 'in_progress')` → `'dialing', 'in_progress'`, and a value the union
 * does not have fails to compile.
 */
export function literals<T extends string>(...values: readonly T[]): string {
  for (const value of values) {
    if (!/^[a-z0-9_.]+$/.test(value)) throw new Error(`not a plain SQL literal: ${value}`);
  }
  return values.map((value) => `'${value}'`).join(', ');
}

function isEntityManager(db: Db): db is EntityManager {
  return !('driver' in db);
}
