import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { CallingWindow } from '../common/calling-window/calling-window';

/**
 * What the last look at the Ultravox agent found: `verified` (Ultravox has it), `unverified` (Ultravox
 * could not be asked: unreachable, 5xx, timeout), `key_rejected` (the stored key was refused: 401/403),
 * `not_checked` (no Ultravox key stored). Only `verified` agents skip the check at dial.
 */
export const ULTRAVOX_CHECKS = ['verified', 'unverified', 'key_rejected', 'not_checked'] as const;
export type UltravoxCheck = (typeof ULTRAVOX_CHECKS)[number];

export const TELEPHONY_PROVIDERS = ['twilio', 'telnyx', 'plivo'] as const;
export type TelephonyProvider = (typeof TELEPHONY_PROVIDERS)[number];

@Entity('agents')
export class Agent {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('uuid', { name: 'agency_id' })
  agencyId: string;

  @Column('text')
  name: string;

  @Column('text', { name: 'ultravox_agent_id' })
  ultravoxAgentId: string;

  /** E.164 caller id. */
  @Column('text', { name: 'phone_number', nullable: true })
  phoneNumber: string | null;

  @Column('text', { name: 'telephony_provider', default: 'twilio' })
  telephonyProvider: TelephonyProvider;

  /** As stored, possibly invalid (written before input was checked): use it through governingWindow. */
  @Column('jsonb', { name: 'calling_window', nullable: true })
  callingWindow: CallingWindow | null;

  @Column('text', { name: 'ultravox_check', default: 'not_checked' })
  ultravoxCheck: UltravoxCheck;

  /** When Ultravox last answered 200 for this agent (the age of contextVariables). */
  @Column('timestamptz', { name: 'ultravox_checked_at', nullable: true })
  ultravoxCheckedAt: Date | null;

  /** The variables its callTemplate.contextSchema declares; null when it declares none (send every key). */
  @Column('text', { name: 'context_variables', array: true, nullable: true })
  contextVariables: string[] | null;

  /** Calls with this agent are recorded, unless trigger-call or the campaign says `record`. */
  @Column('boolean', { name: 'record_calls', default: false })
  recordCalls: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
