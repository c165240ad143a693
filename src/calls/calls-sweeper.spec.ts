import { CallsSweeper } from './calls-sweeper';

/** The sweeper's pass with its collaborators stubbed (what it re-adds is e2e-tested): one bad item never stops the rest. */
describe('CallsSweeper pass', () => {
  function sweeper(parts: { dueForDial?: () => Promise<string[]> } = {}) {
    const enqueued: string[] = [];
    const reconciled: string[] = [];
    const added: string[] = [];
    const deps = {
      config: { ultravox: { timeoutMs: 1_000 } },
      callRows: {
        dueForDial: parts.dueForDial ?? (async () => ['d1', 'd2']),
        stuckDialing: async () => [
          { id: 'c1', agencyId: 'a1' },
          { id: 'c2', agencyId: 'a2' },
        ],
      },
      ultravoxEvents: { unprocessed: async () => ['e1'] },
      transitions: {},
      dialQueue: {
        getJob: async (id: string) => {
          if (id === 'd1') throw new Error('Missing key for job d1');
          return undefined;
        },
      },
      eventQueue: {
        getJob: async () => undefined,
        add: async (_: string, data: { eventId: string }) => added.push(data.eventId),
      },
      calls: { enqueueDial: async (id: string) => enqueued.push(id) },
      dialer: { reconcile: async (call: { id: string }) => (reconciled.push(call.id), 'placed') },
      secrets: {
        ultravoxApiKey: async (agencyId: string) => {
          if (agencyId === 'a1') throw new Error('Unsupported state or unable to authenticate data');
          return 'key';
        },
      },
      clock: { now: () => new Date('2026-03-09T13:00:00Z') },
    };
    const s = new CallsSweeper(
      ...(Object.values(deps) as unknown as ConstructorParameters<typeof CallsSweeper>),
    );
    const warn = jest
      .spyOn((s as unknown as { logger: { warn: () => void } }).logger, 'warn')
      .mockImplementation();
    const pass = () => (s as unknown as { runOnce(): Promise<void> }).runOnce();
    return { pass, warn, enqueued, reconciled, added };
  }

  it("goes on past a due call whose job lookup fails and a stuck dial whose agency's key cannot be read, logging each by id", async () => {
    const { pass, warn, enqueued, reconciled, added } = sweeper();
    await pass();
    expect(enqueued).toEqual(['d2']);
    expect(reconciled).toEqual(['c2']);
    expect(added).toEqual(['e1']);
    expect(warn).toHaveBeenCalledTimes(2);
    expect(warn).toHaveBeenCalledWith(
      expect.objectContaining({ callId: 'd1', err: 'Missing key for job d1' }),
    );
    expect(warn).toHaveBeenCalledWith(
      expect.objectContaining({ callId: 'c1', agencyId: 'a1', err: expect.stringContaining('authenticate') }),
    );
  });

  it('runs the later parts when an earlier part fails', async () => {
    const { pass, warn, reconciled, added } = sweeper({
      dueForDial: async () => {
        throw new Error('canceling statement due to statement timeout');
      },
    });
    await pass();
    expect(reconciled).toEqual(['c2']);
    expect(added).toEqual(['e1']);
    expect(warn).toHaveBeenCalledWith(
      expect.objectContaining({ err: expect.stringContaining('statement timeout') }),
    );
  });
});
