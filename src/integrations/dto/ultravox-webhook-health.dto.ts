import { ApiProperty } from '@nestjs/swagger';
import type { UltravoxWebhookStatus } from '../../agencies/agency.entity';

const KNOWN_STATUSES = ['normal', 'unhealthy', 'missing'] as const;
const STATUSES = [...KNOWN_STATUSES, 'unknown'] as const;

export class UltravoxWebhookFailureDto {
  /** When the delivery failed, as Ultravox reports it; null when it does not say. */
  at: string | null;
  /** What went wrong, as Ultravox reports it. */
  detail: string | null;
}

/** The agency's Ultravox webhook (registered with `register_webhook`) as Ultravox sees it. */
export class UltravoxWebhookHealthDto {
  /** The webhook's id at Ultravox (a new one after the workers registered it again). */
  webhook_id: string;
  /**
   * `normal` or `unhealthy`: as Ultravox reports it (unhealthy: its deliveries to the ingest URL are
   * failing); `missing`: Ultravox no longer has it (deleted, e.g. in the Ultravox console) — the workers
   * register it again within ULTRAVOX_WEBHOOK_CHECK_INTERVAL; `unknown`: Ultravox could not be asked
   * just now (see `problem`; `last_known_status` is the last finding).
   */
  @ApiProperty({ enum: STATUSES })
  status: UltravoxWebhookStatus | 'unknown';
  /** The latest status Ultravox gave (this request's when `live`), as of `checked_at`; null: never read. */
  @ApiProperty({ enum: KNOWN_STATUSES, nullable: true })
  last_known_status: UltravoxWebhookStatus | null;
  /** Ultravox's `lastStatusChange`. */
  last_status_change: Date | null;
  /** Ultravox's `recentFailures`, the latest 10. */
  recent_failures: UltravoxWebhookFailureDto[];
  /** When Ultravox gave this status: now when `live`, else the workers' last check. */
  checked_at: Date | null;
  /** True when read from Ultravox during this request; false: the workers' last finding. */
  live: boolean;
  /** Why Ultravox could not be asked (a timeout, a 429, a rejected key); null when it answered. */
  problem: string | null;
  /**
   * When the workers last registered the webhook again: after finding it deleted (a new `webhook_id`),
   * or changed at Ultravox (its URL or events put back); null: never.
   */
  reregistered_at: Date | null;
}
