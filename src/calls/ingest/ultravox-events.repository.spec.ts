import { storeFirstOfEach, UltravoxEventInput } from './ultravox-events.repository';

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
  const insertUnique = async (unique: UltravoxEventInput[]) => {
    batches.push(unique.map((e) => `${e.callId}/${e.event}`));
    const rows = unique.flatMap((e, i) => {
      const key = `${e.agencyId}/${e.callId}/${e.event}`;
      if (stored.has(key)) return [];
      stored.set(key, String(100 + stored.size));
      return [{ id: stored.get(key) ?? '', ord: String(i + 1) }];
    });
    return rows.reverse();
  };
  return { stored, batches, insertUnique };
}

describe('storeFirstOfEach (the ingest batch of one event-loop turn)', () => {
  it('writes copies of an event once, in one INSERT, and answers null for the copies', async () => {
    const table = fakeTable();
    const ids = await storeFirstOfEach(
      [
        event('call.started', 'a'),
        event('call.started', 'b'),
        event('call.started', 'a'),
        event('call.ended', 'a'),
        event('call.started', 'b'),
      ],
      table.insertUnique,
    );
    expect(table.batches).toEqual([['a/call.started', 'b/call.started', 'a/call.ended']]);
    expect(ids).toEqual(['100', '101', null, '102', null]);
  });

  it('maps each returned row to its own event, whatever order Postgres returns them in', async () => {
    const table = fakeTable();
    await storeFirstOfEach([event('call.started', 'a')], table.insertUnique);
    const ids = await storeFirstOfEach(
      [event('call.started', 'a'), event('call.joined', 'a'), event('call.ended', 'a')],
      table.insertUnique,
    );
    expect(ids).toEqual([null, '101', '102']);
    expect(table.stored.get(`${agencyId}/a/call.joined`)).toBe('101');
    expect(table.stored.get(`${agencyId}/a/call.ended`)).toBe('102');
  });
});
