import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { CallingWindow } from '../common/calling-window/calling-window';

export type UltravoxWebhookStatus = 'normal' | 'unhealthy' | 'missing';

/** One of the webhook's recent failed deliveries, as Ultravox lists them (read leniently). */
export interface UltravoxWebhookFailure {
  at: string | null;
  detail: string | null;
}

@Entity('agencies')
export class Agency {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('text')
  name: string;

  @Column('text', { name: 'ultravox_api_key_encrypted', nullable: true })
  ultravoxApiKeyEncrypted: string | null;

  @Column('timestamptz', { name: 'ultravox_api_key_added_at', nullable: true })
  ultravoxApiKeyAddedAt: Date | null;

  @Column('timestamptz', { name: 'ultravox_api_key_validated_at', nullable: true })
  ultravoxApiKeyValidatedAt: Date | null;

  @Column('text', { name: 'ultravox_webhook_id', nullable: true })
  ultravoxWebhookId: string | null;

  @Column('text', { name: 'ultravox_signing_secret_encrypted', nullable: true })
  ultravoxSigningSecretEncrypted: string | null;

  /** The secret path segment of this agency's ingest URL. */
  @Column('text', { name: 'ingest_secret_encrypted' })
  ingestSecretEncrypted: string;

  @Column('boolean', { name: 'api_enabled', default: true })
  apiEnabled: boolean;

  @Column('text', { name: 'api_webhook_url', nullable: true })
  apiWebhookUrl: string | null;

  @Column('uuid', { name: 'default_agent_id', nullable: true })
  defaultAgentId: string | null;

  /** As stored, possibly invalid (written before input was checked): use it through governingWindow. */
  @Column('jsonb', { name: 'calling_window', nullable: true })
  callingWindow: CallingWindow | null;

  /** The Ultravox account's `allowedConcurrentCalls` when last read (null: never reported). */
  @Column('integer', { name: 'ultravox_allowed_concurrent_calls', nullable: true })
  ultravoxAllowedConcurrentCalls: number | null;

  @Column('timestamptz', { name: 'ultravox_account_checked_at', nullable: true })
  ultravoxAccountCheckedAt: Date | null;

  /** The registered webhook as last checked: `normal` | `unhealthy` (Ultravox's words) | `missing`. */
  @Column('text', { name: 'ultravox_webhook_status', nullable: true })
  ultravoxWebhookStatus: UltravoxWebhookStatus | null;

  /** Ultravox's `lastStatusChange` of the webhook. */
  @Column('timestamptz', { name: 'ultravox_webhook_status_changed_at', nullable: true })
  ultravoxWebhookStatusChangedAt: Date | null;

  @Column('jsonb', { name: 'ultravox_webhook_recent_failures', nullable: true })
  ultravoxWebhookRecentFailures: UltravoxWebhookFailure[] | null;

  /** When Ultravox last told us about the webhook (its status is as of then). */
  @Column('timestamptz', { name: 'ultravox_webhook_checked_at', nullable: true })
  ultravoxWebhookCheckedAt: Date | null;

  /** When the workers last registered the webhook again after finding it deleted. */
  @Column('timestamptz', { name: 'ultravox_webhook_reregistered_at', nullable: true })
  ultravoxWebhookReregisteredAt: Date | null;

  /** Why the last check could not ask Ultravox (null when it could). */
  @Column('text', { name: 'ultravox_check_problem', nullable: true })
  ultravoxCheckProblem: string | null;

  /** Set when Ultravox rejected the stored key during a check: checks stop until the key is saved again. */
  @Column('timestamptz', { name: 'ultravox_key_rejected_at', nullable: true })
  ultravoxKeyRejectedAt: Date | null;

  /** When the workers next check the agency's Ultravox account (null: as soon as they can). */
  @Column('timestamptz', { name: 'ultravox_next_check_at', nullable: true })
  ultravoxNextCheckAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
