import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { CallingWindow } from '../common/calling-window/calling-window';

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

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
