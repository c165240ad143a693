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
