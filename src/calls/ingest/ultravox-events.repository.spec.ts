import type { DataSource } from 'typeorm';
import { runSql } from '../../database/sql';
import { UltravoxEventsRepository } from './ultravox-events.repository';

jest.mock('../../database/sql', () => ({
  ...jest.requireActual<typeof import('../../database/sql')>('../../database/sql'),
  runSql: jest.fn(),
}));

const agencyId = '5f0c2a52-7c0e-4a55-9d55-6f1f6f0b7a10';
const event = (e: string, callId: string) => ({
  agencyId,
  callId,
  event: e,
  payload: `{"${e}":"${callId}"}`,
});

/** call_events as a set of keys; each INSERT batch is recorded. Rows come back in reverse order. */
function fakeTable() {
  const stored = new Map<string, string>();
  const batches: string[][] = [];
  jest.mocked(runSql).mockImplementation(async (_db, _stmt, values) => {
    const [agencies, callIds, events, payloads] = values as [string[], string[], string[], string];
    expect(JSON.parse(payloads)).toHaveLength(callIds.length);
    batches.push(callIds.map((callId, i) => `${callId}/${events[i]}`));
    const rows = callIds.flatMap((callId, i) => {
      const key = `${agencies[i]}/${callId}/${events[i]}`;
      if (stored.has(key)) return [];
      stored.set(key, String(100 + stored.size));
      return [{ id: stored.get(key), ord: String(i + 1) }];
    });
    return rows.reverse() as never[];
  });
  return { stored, batches };
}

describe('UltravoxEventsRepository.store', () => {
  let table: ReturnType<typeof fakeTable>;
  let repository: UltravoxEventsRepository;

  beforeEach(() => {
    table = fakeTable();
    repository = new UltravoxEventsRepository({} as DataSource);
  });

  it('stores the events of one turn with one INSERT, and copies of an event once', async () => {
    const ids = await Promise.all([
      repository.store(event('call.started', 'a')),
      repository.store(event('call.started', 'b')),
      repository.store(event('call.started', 'a')),
      repository.store(event('call.ended', 'a')),
      repository.store(event('call.started', 'b')),
    ]);
    expect(table.batches).toEqual([['a/call.started', 'b/call.started', 'a/call.ended']]);
    expect(ids).toEqual(['100', '101', null, '102', null]);
  });

  it('maps each returned row to its own event, whatever order Postgres returns them in', async () => {
    await repository.store(event('call.started', 'a'));
    const ids = await Promise.all([
      repository.store(event('call.started', 'a')),
      repository.store(event('call.joined', 'a')),
      repository.store(event('call.ended', 'a')),
    ]);
    expect(ids).toEqual([null, '101', '102']);
    expect(table.stored.get(`${agencyId}/a/call.joined`)).toBe('101');
    expect(table.stored.get(`${agencyId}/a/call.ended`)).toBe('102');
  });
});
