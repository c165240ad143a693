import { CallingWindow } from '../common/calling-window/calling-window';
import { governingWindow, InvalidSetting, InvalidWindow } from '../common/calling-window/stored-window';
import { RETRYABLE_OUTCOMES, RetryableOutcome } from './campaign.entity';
import type { StoredRetryPolicy, TickCampaign } from './campaigns.repository';

export interface RetryPolicy {
  maxAttempts: number;
  on: RetryableOutcome[];
  delayMs: number;
}

/** What an invalid retry policy settles with: each contact's outcome stands, none is retried. */
const NO_RETRY: RetryPolicy = { maxAttempts: 1, on: [], delayMs: 0 };

/** A campaign's settings, checked: what a tick may use, and why it may not dial when one is invalid. */
export interface CampaignSettings {
  /** The calling window its calls are placed in (null: any time); null too when it is invalid. */
  window: CallingWindow | null;
  /** Its retry policy; when the stored one is invalid, no retries. */
  retry: RetryPolicy;
  /** Why the campaign may not dial (`paused_reason`); null when every setting holds. */
  invalid: string | null;
}

/**
 * The tick's settings of a campaign, read instead of trusted: an invalid stored window (the campaign's,
 * else its agent's, else its agency's) or retry policy stops this campaign alone, with a reason that
 * says what to fix, where it used to fail every tick.
 */
export function readCampaignSettings(campaign: TickCampaign): CampaignSettings {
  const window = governingWindow([
    ['campaign', campaign.callingWindow],
    ['agent', campaign.agentWindow],
    ['agency', campaign.agencyWindow],
  ]);
  const retry = parseStoredRetry(campaign.retry);
  const invalid = [
    ...(window instanceof InvalidWindow ? [windowReason(window, campaign.agentId)] : []),
    ...(retry instanceof InvalidSetting
      ? [
          `invalid_retry_policy: the campaign's retry policy is stored invalid (${retry.problem}); ` +
            'a started campaign cannot be edited: cancel it and create it again with a valid retry',
        ]
      : []),
  ];
  return {
    window: window instanceof InvalidWindow ? null : window,
    retry: retry instanceof InvalidSetting ? NO_RETRY : retry,
    invalid: invalid.length > 0 ? invalid.join('; ') : null,
  };
}

/**
 * A stored retry policy checked by RetryPolicyDto's rules (the input of the routes that store one):
 * 1 to 10 attempts, distinct outcomes out of RETRYABLE_OUTCOMES, a whole non-negative delay.
 * campaign-settings.spec.ts holds the two to the same verdicts.
 */
export function parseStoredRetry(stored: StoredRetryPolicy): RetryPolicy | InvalidSetting {
  const { maxAttempts, on, delayMs } = stored;
  const problems = [
    ...(Number.isInteger(maxAttempts) && maxAttempts >= 1 && maxAttempts <= 10
      ? []
      : ['max_attempts must be a whole number from 1 to 10']),
    ...(Array.isArray(on) &&
    new Set(on).size === on.length &&
    on.every((outcome) => (RETRYABLE_OUTCOMES as readonly string[]).includes(outcome))
      ? []
      : [`on must hold distinct outcomes out of ${RETRYABLE_OUTCOMES.join(', ')}`]),
    ...(Number.isSafeInteger(delayMs) && delayMs >= 0
      ? []
      : ['delay must be a whole, non-negative duration']),
  ];
  if (problems.length > 0) return new InvalidSetting(problems.join('; '));
  return { maxAttempts, on: on as RetryableOutcome[], delayMs };
}

function windowReason(window: InvalidWindow, agentId: string | null): string {
  const fix = {
    campaign: [
      "the campaign's calling_window",
      'a started campaign cannot be edited: cancel it and create it again with a valid calling_window',
    ],
    agent: [
      `agent ${agentId}'s calling_window`,
      `store a valid one (or null) with PATCH /api/v1/agents/${agentId}, then resume the campaign`,
    ],
    agency: [
      "the agency's calling_window",
      'store a valid one (or null) with PATCH /api/v1/agency, then resume the campaign',
    ],
  }[window.owner];
  return `invalid_calling_window: ${fix[0]} is stored invalid (${window.problem}); ${fix[1]}`;
}
