import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { CallingWindow } from '../common/calling-window/calling-window';

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

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
