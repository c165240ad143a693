/** Every queue and job name, in one place (STYLE "Jobs"). Jobs carry ids, never secrets or payloads. */
export const QUEUES = {
  webhookDelivery: 'webhook-delivery',
  callDial: 'call-dial',
  callEvents: 'call-events',
} as const;

export const JOBS = {
  deliver: 'deliver',
  dial: 'dial',
  processCallEvent: 'process-call-event',
} as const;

export interface DeliverJob {
  deliveryId: string;
  /** A by-hand retry: one attempt, outside the automatic schedule. */
  manual?: boolean;
}

export interface DialJob {
  callId: string;
}

export interface CallEventJob {
  /** call_events.id of the stored Ultravox webhook. */
  eventId: string;
}
