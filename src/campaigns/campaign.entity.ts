import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { CallingWindow } from '../common/calling-window/calling-window';

export const CAMPAIGN_STATUSES = ['draft', 'running', 'paused', 'finished', 'canceled'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

/** Call outcomes a campaign may retry (failure reasons map onto these: no_answer, busy, anything else failed). */
export const RETRYABLE_OUTCOMES = ['no_answer', 'busy', 'failed'] as const;
export type RetryableOutcome = (typeof RETRYABLE_OUTCOMES)[number];

@Entity('campaigns')
export class Campaign {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('uuid', { name: 'agency_id' })
  agencyId: string;

  @Column('text')
  name: string;

  @Column('uuid', { name: 'agent_id', nullable: true })
  agentId: string | null;

  @Column('text')
  status: CampaignStatus;

  @Column('integer', { name: 'max_concurrency' })
  maxConcurrency: number;

  /** As stored, possibly invalid (written before input was checked): the dispatcher checks it. */
  @Column('jsonb', { name: 'calling_window', nullable: true })
  callingWindow: CallingWindow | null;

  @Column('integer', { name: 'retry_max_attempts' })
  retryMaxAttempts: number;

  @Column('text', { name: 'retry_on', array: true })
  retryOn: RetryableOutcome[];

  @Column('bigint', {
    name: 'retry_delay_ms',
    transformer: { to: (v: number) => v, from: (v: string) => Number(v) },
  })
  retryDelayMs: number;

  /** Whether its calls are recorded; null follows the agent's `record_calls`. */
  @Column('boolean', { nullable: true })
  record: boolean | null;

  /** Why the dispatcher paused it (a setting stored invalid); null when paused by request or not paused. */
  @Column('text', { name: 'paused_reason', nullable: true })
  pausedReason: string | null;

  @Column('timestamptz', { name: 'started_at', nullable: true })
  startedAt: Date | null;

  @Column('timestamptz', { name: 'finished_at', nullable: true })
  finishedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

export const CONTACT_STATUSES = [
  'pending',
  'in_progress',
  'completed',
  'failed',
  'skipped',
  'canceled',
] as const;
export type ContactStatus = (typeof CONTACT_STATUSES)[number];

@Entity('campaign_contacts')
export class CampaignContact {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('uuid', { name: 'campaign_id' })
  campaignId: string;

  @Column('uuid', { name: 'agency_id' })
  agencyId: string;

  /** The contact's row in its import (1 = first data row). */
  @Column('integer', { name: 'row_number' })
  rowNumber: number;

  @Column('text', { name: 'phone_number' })
  phoneNumber: string;

  @Column('text', { nullable: true })
  name: string | null;

  @Column('text', { nullable: true })
  email: string | null;

  @Column('jsonb')
  variables: Record<string, string>;

  @Column('text')
  status: ContactStatus;

  @Column('integer')
  attempts: number;

  @Column('timestamptz', { name: 'next_attempt_at' })
  nextAttemptAt: Date;

  @Column('uuid', { name: 'last_call_id', nullable: true })
  lastCallId: string | null;

  /** completed, no_answer, busy, failed, on_dnc, canceled. */
  @Column('text', { name: 'last_outcome', nullable: true })
  lastOutcome: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
