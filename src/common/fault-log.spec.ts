import { FaultLog } from './fault-log';

const refused = () =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6380'), {
    code: 'ECONNREFUSED',
    syscall: 'connect',
  });

describe('FaultLog', () => {
  const lines = () => {
    const written: { level: string; line: Record<string, unknown> }[] = [];
    const logger = {
      warn: (line: Record<string, unknown>) => written.push({ level: 'warn', line }),
      log: (line: Record<string, unknown>) => written.push({ level: 'info', line }),
    };
    return { written, log: new FaultLog(logger) };
  };

  it('logs one warning per source per outage, and one line when it recovers counting the rest', () => {
    const { written, log } = lines();
    for (let i = 0; i < 5; i++) log.failed('redis client', refused());
    log.failed('queue call-dial', refused());
    log.recovered('redis client');
    log.recovered('redis client');
    expect(written).toEqual([
      { level: 'warn', line: expect.objectContaining({ source: 'redis client', err: refused().message }) },
      { level: 'warn', line: expect.objectContaining({ source: 'queue call-dial' }) },
      {
        level: 'info',
        line: expect.objectContaining({ source: 'redis client', errors_not_logged: 4 }),
      },
    ]);
  });

  it('counts a connection lost without an error (lost) as the same outage as its errors', () => {
    const { written, log } = lines();
    log.lost('redis client', 'the connection to Redis closed');
    log.failed('redis client', refused());
    log.lost('redis client', 'the connection to Redis closed');
    log.recovered('redis client');
    expect(written).toEqual([
      {
        level: 'warn',
        line: expect.objectContaining({ source: 'redis client', err: 'the connection to Redis closed' }),
      },
      { level: 'info', line: expect.objectContaining({ source: 'redis client', errors_not_logged: 2 }) },
    ]);
  });

  it('warns again at the next outage', () => {
    const { written, log } = lines();
    log.failed('redis client', refused());
    log.recovered('redis client');
    log.failed('redis client', refused());
    expect(written.map((w) => w.level)).toEqual(['warn', 'info', 'warn']);
  });

  it('logs every error that is not an outage, as its message only', () => {
    const { written, log } = lines();
    log.failed('worker call-dial', new Error('Missing key for job 1. moveToFinished'));
    log.failed('worker call-dial', new Error('Missing key for job 2. moveToFinished'));
    expect(written).toEqual([
      { level: 'warn', line: expect.objectContaining({ err: 'Missing key for job 1. moveToFinished' }) },
      { level: 'warn', line: expect.objectContaining({ err: 'Missing key for job 2. moveToFinished' }) },
    ]);
    expect(JSON.stringify(written)).not.toContain('    at ');
  });
});
