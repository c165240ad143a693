/** Events an agency can subscribe an endpoint to (CONTRACT §5.4). */
export const SUBSCRIBABLE_EVENTS = [
  'call.started',
  'call.completed',
  'call.failed',
  'campaign.started',
  'campaign.paused',
  'campaign.finished',
] as const;
export type SubscribableEvent = (typeof SUBSCRIBABLE_EVENTS)[number];

/** Sent only on request, to one endpoint (POST /api/v1/webhooks/:id/test). */
export const TEST_EVENT = 'webhook.test';
export type WebhookEventType = SubscribableEvent | typeof TEST_EVENT;

/** What the integration page's webhook_url receives (CONTRACT §6). */
export const INTEGRATION_EVENTS: SubscribableEvent[] = ['call.completed', 'call.failed'];
