import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { BillingStatus } from './billing';

export const CALL_STATUSES = [
  'queued',
  'scheduled',
  'dialing',
  'in_progress',
  'completed',
  'failed',
  'canceled',
] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];
export const TERMINAL_STATUSES: CallStatus[] = ['completed', 'failed', 'canceled'];

export interface TranscriptTurn {
  role: 'agent' | 'human';
  content: string;
  timestamp: string | null;
}

@Entity('calls')
export class Call {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('uuid', { name: 'agency_id' })
  agencyId: string;

  @Column('uuid', { name: 'agent_id', nullable: true })
  agentId: string | null;

  @Column('uuid', { name: 'campaign_id', nullable: true })
  campaignId: string | null;

  @Column('text')
  direction: 'outbound' | 'inbound';

  @Column('text')
  status: CallStatus;

  @Column('text', { name: 'failure_reason', nullable: true })
  failureReason: string | null;

  @Column('text', { name: 'phone_number', nullable: true })
  phoneNumber: string | null;

  @Column('text', { nullable: true })
  name: string | null;

  @Column('text', { nullable: true })
  email: string | null;

  @Column('json', { nullable: true })
  metadata: object | null;

  @Column('text', { name: 'ultravox_call_id', nullable: true })
  ultravoxCallId: string | null;

  @Column('timestamptz', { name: 'scheduled_for', nullable: true })
  scheduledFor: Date | null;

  @Column('integer', { name: 'dial_attempts', default: 0 })
  dialAttempts: number;

  @Column('timestamptz', { name: 'dialed_at', nullable: true })
  dialedAt: Date | null;

  @Column('timestamptz', { name: 'started_at', nullable: true })
  startedAt: Date | null;

  @Column('timestamptz', { name: 'ended_at', nullable: true })
  endedAt: Date | null;

  @Column('integer', { name: 'duration_seconds', nullable: true })
  durationSeconds: number | null;

  @Column('text', { name: 'end_reason', nullable: true })
  endReason: string | null;

  @Column('text', { nullable: true })
  summary: string | null;

  @Column('text', { name: 'short_summary', nullable: true })
  shortSummary: string | null;

  @Column('text', { nullable: true })
  sentiment: 'positive' | 'neutral' | 'negative' | null;

  @Column('jsonb', { nullable: true })
  transcript: TranscriptTurn[] | null;

  /** Whether Ultravox was asked to record the call (decided when the call was created). */
  @Column('boolean', { name: 'recording_enabled', default: false })
  recordingEnabled: boolean;

  /** When a live call is next read back from Ultravox (null: after CALLS_RECONCILE_AFTER of silence). */
  @Column('timestamptz', { name: 'reconcile_at', nullable: true })
  reconcileAt: Date | null;

  /** How many times reconciliation found the call still live (or Ultravox unreadable). */
  @Column('integer', { name: 'reconcile_checks', nullable: true })
  reconcileChecks: number | null;

  /** The call's `maxDuration` as Ultravox last reported it (null: not read yet). */
  @Column('integer', { name: 'max_duration_seconds', nullable: true })
  maxDurationSeconds: number | null;

  /** src/calls/billing.ts; written by CallsRepository only (recordBilling, awaitBilling, billingUnavailable). */
  @Column('text', { name: 'billing_status', nullable: true })
  billingStatus: BillingStatus | null;

  @Column('integer', { name: 'billed_duration_seconds', nullable: true })
  billedDurationSeconds: number | null;

  /** When a `pending` call is next read back from Ultravox (null: CALLS_RECONCILE_AFTER after its end). */
  @Column('timestamptz', { name: 'billing_check_at', nullable: true })
  billingCheckAt: Date | null;

  @Column('integer', { name: 'billing_checks', nullable: true })
  billingChecks: number | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

@Entity('call_events')
export class CallEvent {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  @Column('uuid', { name: 'agency_id' })
  agencyId: string;

  @Column('uuid', { name: 'call_id', nullable: true })
  callId: string | null;

  @Column('text', { name: 'ultravox_call_id', nullable: true })
  ultravoxCallId: string | null;

  @Column('text')
  source: 'ultravox' | 'switchboard';

  @Column('text')
  event: string;

  @Column('text', { nullable: true })
  payload: string | null;

  @Column('text', { nullable: true })
  detail: string | null;

  @Column('timestamptz', { name: 'processed_at', nullable: true })
  processedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
