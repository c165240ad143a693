import { postgresStatementCanceled, RedisTimeoutError, unreachableDependency } from './dependency-outage';

const withProps = (message: string, props: Record<string, unknown>) =>
  Object.assign(new Error(message), props);

/** TypeORM's QueryFailedError, by shape: common/ does not import TypeORM (layer rules). */
const queryFailed = (driverError: Error) =>
  withProps(driverError.message, { name: 'QueryFailedError', driverError });

describe('unreachableDependency', () => {
  const cases: [string, unknown, 'postgres' | 'redis' | undefined][] = [
    [
      'ioredis without its offline queue',
      new Error("Stream isn't writeable and enableOfflineQueue options is false"),
      'redis',
    ],
    ['ioredis: connection closed under a command', new Error('Connection is closed.'), 'redis'],
    ['ioredis: commandTimeout', new Error('Command timed out'), 'redis'],
    [
      'ioredis: MaxRetriesPerRequestError',
      withProps('Reached the max retries per request limit (which is 2).', {
        name: 'MaxRetriesPerRequestError',
      }),
      'redis',
    ],
    ['a queue add past REDIS_TIMEOUT_MS', new RedisTimeoutError(2000, 'add to call-dial'), 'redis'],
    [
      'pg: connection refused',
      withProps('connect ECONNREFUSED 127.0.0.1:5432', { code: 'ECONNREFUSED', syscall: 'connect' }),
      'postgres',
    ],
    ['pg-pool: connectionTimeoutMillis', new Error('timeout exceeded when trying to connect'), 'postgres'],
    ['pg: server went away', new Error('Connection terminated unexpectedly'), 'postgres'],
    [
      'Postgres shutting down (57P01), wrapped by TypeORM',
      queryFailed(withProps('terminating connection due to administrator command', { code: '57P01' })),
      'postgres',
    ],
    [
      'Postgres starting up (57P03)',
      withProps('the database system is starting up', { code: '57P03' }),
      'postgres',
    ],
    ['connection exception class 08', withProps('connection failure', { code: '08006' }), 'postgres'],
    [
      'a statement past DATABASE_STATEMENT_TIMEOUT_MS (57014), wrapped by TypeORM',
      queryFailed(withProps('canceling statement due to statement timeout', { code: '57014' })),
      'postgres',
    ],
    [
      'a unique violation is not an outage',
      queryFailed(withProps('duplicate key', { code: '23505' })),
      undefined,
    ],
    [
      'a bug is not an outage',
      new TypeError("Cannot read properties of undefined (reading 'id')"),
      undefined,
    ],
    ['a code without a syscall is not a socket', withProps('nope', { code: 'ECONNREFUSED' }), undefined],
    ['not an error at all', 'ECONNREFUSED', undefined],
  ];

  it.each(cases)('%s', (_, error, expected) => {
    expect(unreachableDependency(error)).toBe(expected);
  });
});

describe('postgresStatementCanceled', () => {
  it("tells a canceled statement from any other Postgres failure, through TypeORM's wrapper", () => {
    const canceled = withProps('canceling statement due to statement timeout', { code: '57014' });
    expect(postgresStatementCanceled(queryFailed(canceled))).toBe(true);
    expect(postgresStatementCanceled(canceled)).toBe(true);
    expect(postgresStatementCanceled(withProps('connection failure', { code: '08006' }))).toBe(false);
    expect(postgresStatementCanceled(undefined)).toBe(false);
  });
});
