import { Agency } from '../agencies/agency.entity';
import { User } from '../agencies/user.entity';
import { Agent } from '../agents/agent.entity';
import { Call, CallEvent } from '../calls/call.entity';
import { IdempotencyKey } from '../calls/idempotency-key.entity';
import { Campaign, CampaignContact } from '../campaigns/campaign.entity';
import { DncNumber } from '../dnc/dnc-number.entity';
import { ApiKey } from '../integrations/api-key.entity';
import { DeliveryAttempt, WebhookDelivery } from '../webhooks/delivery/webhook-delivery.entity';
import { WebhookEvent } from '../webhooks/delivery/webhook-event.entity';
import { WebhookEndpoint } from '../webhooks/endpoints/webhook-endpoint.entity';

/** Every entity, registered once for the app, the CLI and the migration runner. */
export const entities = [
  Agency,
  User,
  ApiKey,
  Agent,
  WebhookEndpoint,
  WebhookEvent,
  WebhookDelivery,
  DeliveryAttempt,
  Call,
  CallEvent,
  IdempotencyKey,
  Campaign,
  CampaignContact,
  DncNumber,
];
