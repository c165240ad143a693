import type { CampaignStatus } from './campaign.entity';

export type CampaignAction = 'start' | 'pause' | 'resume' | 'cancel';
export type CampaignEvent = 'campaign.started' | 'campaign.paused' | 'campaign.finished';

export interface CampaignTransition {
  from: readonly CampaignStatus[];
  to: CampaignStatus;
  /** Which timestamp the transition sets. */
  stamps?: 'started_at' | 'finished_at';
  event?: CampaignEvent;
}

/**
 * The campaign state machine: draft → running ⇄ paused → finished | canceled. The four actions are the
 * API's; `finish` is the dispatcher's, once no contact is left. CampaignsRepository.transition is the
 * only writer of campaigns.status, and only along these edges.
 */
export const CAMPAIGN_TRANSITIONS: Record<CampaignAction | 'finish', CampaignTransition> = {
  start: { from: ['draft'], to: 'running', stamps: 'started_at', event: 'campaign.started' },
  pause: { from: ['running'], to: 'paused', event: 'campaign.paused' },
  resume: { from: ['paused'], to: 'running' },
  cancel: {
    from: ['draft', 'running', 'paused'],
    to: 'canceled',
    stamps: 'finished_at',
    event: 'campaign.finished',
  },
  finish: { from: ['running', 'paused'], to: 'finished', stamps: 'finished_at', event: 'campaign.finished' },
};

const ACTIONS: readonly CampaignAction[] = ['start', 'pause', 'resume', 'cancel'];

/** The API actions a campaign in `status` allows. */
export function allowedActions(status: CampaignStatus): CampaignAction[] {
  return ACTIONS.filter((action) => CAMPAIGN_TRANSITIONS[action].from.includes(status));
}
