/** Every queue and job name, in one place (STYLE "Jobs"). Jobs carry ids, never secrets or payloads. */
export const QUEUES = {
  webhookDelivery: 'webhook-delivery',
} as const;

export const JOBS = {
  deliver: 'deliver',
} as const;

export interface DeliverJob {
  deliveryId: string;
  /** A by-hand retry: one attempt, outside the automatic schedule. */
  manual?: boolean;
}
