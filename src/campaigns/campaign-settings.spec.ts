import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { InvalidSetting } from '../common/calling-window/stored-window';
import { parseStoredRetry, readCampaignSettings } from './campaign-settings';
import type { StoredRetryPolicy, TickCampaign } from './campaigns.repository';
import { RetryPolicyDto } from './dto/campaign.dto';

const policy: StoredRetryPolicy = { maxAttempts: 3, on: ['no_answer', 'busy'], delayMs: 1_800_000 };

/** Whether the routes that store a retry policy would have taken this one (its delay in ms). */
async function routesAccept(stored: StoredRetryPolicy): Promise<boolean> {
  const dto = plainToInstance(RetryPolicyDto, {
    max_attempts: stored.maxAttempts,
    on: stored.on,
    delay: `${stored.delayMs}ms`,
  });
  return (await validate(dto)).length === 0;
}

const RETRIES: Array<[string, StoredRetryPolicy, string | null]> = [
  ['a policy', policy, null],
  ['never retry (the default)', { maxAttempts: 1, on: [], delayMs: 0 }, null],
  ['10 attempts, every outcome', { maxAttempts: 10, on: ['no_answer', 'busy', 'failed'], delayMs: 1 }, null],
  ['0 attempts', { ...policy, maxAttempts: 0 }, 'max_attempts'],
  ['11 attempts', { ...policy, maxAttempts: 11 }, 'max_attempts'],
  ['an unknown outcome', { ...policy, on: ['voicemail'] }, 'on must hold'],
  ['an outcome twice', { ...policy, on: ['busy', 'busy'] }, 'on must hold'],
  ['a negative delay', { ...policy, delayMs: -1000 }, 'delay'],
  ['a fractional delay', { ...policy, delayMs: 1.5 }, 'delay'],
];

describe('parseStoredRetry', () => {
  it.each(RETRIES)(
    '%s: the same verdict as the routes that store retry policies',
    async (_, stored, problem) => {
      const parsed = parseStoredRetry(stored);
      expect(parsed instanceof InvalidSetting).toBe(problem !== null);
      expect(await routesAccept(stored)).toBe(problem === null);
      if (problem === null) expect(parsed).toEqual(stored);
      else expect((parsed as InvalidSetting).problem).toContain(problem);
    },
  );
});

describe('readCampaignSettings', () => {
  const office = { timezone: 'Europe/Berlin', days: ['mon'], start: '09:00', end: '17:00' };
  const campaign = (fields: Partial<TickCampaign>): TickCampaign => ({
    id: 'c1',
    agencyId: 'a1',
    name: 'Spring',
    status: 'running',
    maxConcurrency: 1,
    callingWindow: null,
    retry: policy,
    agentId: 'g1',
    record: null,
    agentWindow: null,
    agencyWindow: null,
    ...fields,
  });

  it('holds when every setting is valid, the campaign window first', () => {
    expect(readCampaignSettings(campaign({ callingWindow: office, agencyWindow: [] }))).toEqual({
      window: office,
      retry: policy,
      invalid: null,
    });
  });

  it.each<[string, Partial<TickCampaign>, RegExp]>([
    [
      "the campaign's window",
      { callingWindow: [] },
      /^invalid_calling_window: the campaign's calling_window .*cancel it and create it again/,
    ],
    [
      "the agent's window",
      { agentWindow: { ...office, start: '25:99' } },
      /^invalid_calling_window: agent g1's calling_window .*start must be HH:MM.*PATCH \/api\/v1\/agents\/g1, then resume/,
    ],
    [
      "the agency's window",
      { agencyWindow: { ...office, timezone: 'Mars/Olympus_Mons' } },
      /^invalid_calling_window: the agency's calling_window .*timezone.*PATCH \/api\/v1\/agency, then resume/,
    ],
    [
      'the retry policy',
      { retry: { ...policy, maxAttempts: 0 } },
      /^invalid_retry_policy: .*max_attempts.*cancel it and create it again/,
    ],
  ])('stops the campaign when %s is stored invalid, saying what to fix', (_, fields, reason) => {
    const settings = readCampaignSettings(campaign(fields));
    expect(settings.invalid).toMatch(reason);
    expect(settings.window).toBeNull();
  });

  it('settles without retries when the retry policy is invalid', () => {
    expect(readCampaignSettings(campaign({ retry: { ...policy, on: ['x'] } })).retry).toEqual({
      maxAttempts: 1,
      on: [],
      delayMs: 0,
    });
  });
});
