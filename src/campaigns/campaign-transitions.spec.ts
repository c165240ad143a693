import { allowedActions, CAMPAIGN_TRANSITIONS } from './campaign-transitions';

describe('campaign state machine', () => {
  it('allows the API actions along draft → running ⇄ paused → canceled, and none once finished or canceled', () => {
    expect(allowedActions('draft')).toEqual(['start', 'cancel']);
    expect(allowedActions('running')).toEqual(['pause', 'cancel']);
    expect(allowedActions('paused')).toEqual(['resume', 'cancel']);
    expect(allowedActions('finished')).toEqual([]);
    expect(allowedActions('canceled')).toEqual([]);
  });

  it('reaches finished only through the dispatcher, from running or paused', () => {
    expect(CAMPAIGN_TRANSITIONS.finish).toMatchObject({ from: ['running', 'paused'], to: 'finished' });
    expect(allowedActions('running')).not.toContain('finish');
  });

  it('stamps started_at on start and finished_at on cancel and finish', () => {
    expect(CAMPAIGN_TRANSITIONS.start.stamps).toBe('started_at');
    expect(CAMPAIGN_TRANSITIONS.cancel.stamps).toBe('finished_at');
    expect(CAMPAIGN_TRANSITIONS.finish.stamps).toBe('finished_at');
    expect(CAMPAIGN_TRANSITIONS.pause.stamps).toBeUndefined();
  });
});
