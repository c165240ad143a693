import { CallEndedListener } from '../calls/lifecycle/call-transitions.service';
import { CampaignDispatcher } from './campaign-dispatcher';

/** The dispatcher's reaction to ended calls, with its collaborators stubbed (its ticks are e2e-tested). */
describe('CampaignDispatcher.tickSoon', () => {
  function dispatcher() {
    let listener: CallEndedListener | undefined;
    const transitions = { onCampaignCallEnded: (l: CallEndedListener) => (listener = l) };
    const d = new CampaignDispatcher(
      ...([{}, {}, {}, {}, {}, {}, {}, {}, transitions] as unknown as ConstructorParameters<
        typeof CampaignDispatcher
      >),
    );
    d.onModuleInit();
    const running = new Map<string, () => void>();
    const ticks: string[] = [];
    const tick = jest.spyOn(d, 'tick').mockImplementation(async (id: string) => {
      ticks.push(id);
      await new Promise<void>((resolve) => running.set(id, resolve));
      return true;
    });
    /** Ends the running tick of `id`, then lets what follows it run. */
    const finish = async (id: string) => {
      running.get(id)!();
      await new Promise((r) => setImmediate(r));
    };
    return {
      d,
      ticks,
      tick,
      ended: (campaignId: string) => listener!({ id: 'call', campaignId }),
      finish,
    };
  }

  it('ticks the campaign of an ended call at once, and coalesces ends that arrive meanwhile into one more tick', async () => {
    const { ticks, ended, finish } = dispatcher();
    ended('c1');
    expect(ticks).toEqual(['c1']);
    ended('c1');
    ended('c1');
    ended('c2');
    expect(ticks).toEqual(['c1', 'c2']);
    await finish('c1');
    expect(ticks).toEqual(['c1', 'c2', 'c1']);
    await finish('c1');
    await finish('c2');
    expect(ticks).toEqual(['c1', 'c2', 'c1']);
    ended('c1');
    expect(ticks).toEqual(['c1', 'c2', 'c1', 'c1']);
    await finish('c1');
  });

  it('leaves a failed tick to the periodic one', async () => {
    const { d, tick } = dispatcher();
    tick.mockRejectedValueOnce(new Error('database down'));
    const warn = jest
      .spyOn((d as unknown as { logger: { warn: () => void } }).logger, 'warn')
      .mockImplementation();
    await expect(d.tickSoon('c1')).resolves.toBeUndefined();
    expect(warn).toHaveBeenCalledWith(expect.objectContaining({ campaignId: 'c1', err: 'database down' }));
  });

  it('tries a campaign whose lock is taken a few times more, then leaves it to the periodic pass', async () => {
    const { d, tick } = dispatcher();
    tick.mockResolvedValue(false);
    await d.tickSoon('c1');
    expect(tick).toHaveBeenCalledTimes(4);
  });
});

describe('CampaignDispatcher pass', () => {
  it("ticks every campaign of the pass when one fails, and logs that one's id and error", async () => {
    const campaignRows = { activeAfter: async () => ['c1', 'c2', 'c3'] };
    const d = new CampaignDispatcher(
      ...([{}, campaignRows, {}, {}, {}, {}, {}, {}, {}] as unknown as ConstructorParameters<
        typeof CampaignDispatcher
      >),
    );
    const ticked: string[] = [];
    jest.spyOn(d, 'tick').mockImplementation(async (id: string) => {
      if (id === 'c2') throw new TypeError("Cannot read properties of undefined (reading 'length')");
      ticked.push(id);
      return true;
    });
    const warn = jest
      .spyOn((d as unknown as { logger: { warn: () => void } }).logger, 'warn')
      .mockImplementation();
    await (d as unknown as { runOnce(): Promise<void> }).runOnce();
    expect(ticked).toEqual(['c1', 'c3']);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledWith(
      expect.objectContaining({ campaignId: 'c2', err: expect.stringContaining('length') }),
    );
  });
});
