import { Foundation1763900000000 } from './1763900000000-foundation';
import { Webhooks1763910000000 } from './1763910000000-webhooks';
import { Calls1763920000000 } from './1763920000000-calls';
import { Campaigns1763930000000 } from './1763930000000-campaigns';
import { Retention1763940000000 } from './1763940000000-retention';
import { CampaignPausedReason1763950000000 } from './1763950000000-campaign-paused-reason';
import { DeliveryIsolation1763960000000 } from './1763960000000-delivery-isolation';
import { EndpointHealth1763980000000 } from './1763980000000-endpoint-health';
import { DeliveryRecovery1763990000000 } from './1763990000000-delivery-recovery';
import { CallReconciliation1764000000000 } from './1764000000000-call-reconciliation';
import { AgentUltravoxCheck1764200000000 } from './1764200000000-agent-ultravox-check';
import { UltravoxAccountChecks1764300000000 } from './1764300000000-ultravox-account-checks';
import { CallRecordings1764400000000 } from './1764400000000-call-recordings';
import { CallBilling1764500000000 } from './1764500000000-call-billing';
import { CallUsage1764510000000 } from './1764510000000-call-usage';

/** Every migration, oldest first. Listed explicitly so the build, the CLI and ts-jest load the same set. */
export const migrations = [
  Foundation1763900000000,
  Webhooks1763910000000,
  Calls1763920000000,
  Campaigns1763930000000,
  Retention1763940000000,
  CampaignPausedReason1763950000000,
  DeliveryIsolation1763960000000,
  EndpointHealth1763980000000,
  DeliveryRecovery1763990000000,
  CallReconciliation1764000000000,
  AgentUltravoxCheck1764200000000,
  UltravoxAccountChecks1764300000000,
  CallRecordings1764400000000,
  CallBilling1764500000000,
  CallUsage1764510000000,
];
