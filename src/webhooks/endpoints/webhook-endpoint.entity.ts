import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export type EndpointKind = 'custom' | 'integration';

@Entity('webhook_endpoints')
export class WebhookEndpoint {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('uuid', { name: 'agency_id' })
  agencyId: string;

  @Column('text')
  kind: EndpointKind;

  @Column('text')
  url: string;

  @Column('text', { array: true })
  events: string[];

  @Column('boolean')
  active: boolean;

  /** Why the service switched the endpoint off (e.g. the receiver answered 410 Gone). */
  @Column('text', { name: 'disabled_reason', nullable: true })
  disabledReason: string | null;

  /** Since when the endpoint has been failing: paused as unreachable, no probe answered since. */
  @Column('timestamptz', { name: 'failing_since', nullable: true })
  failingSince: Date | null;

  /** At most this many attempts per second to the endpoint; null: no throttle. */
  @Column('integer', { name: 'rate_limit_per_second', nullable: true })
  rateLimitPerSecond: number | null;

  @Column('text', { name: 'secret_encrypted' })
  secretEncrypted: string;

  @Column('text', { name: 'previous_secret_encrypted', nullable: true })
  previousSecretEncrypted: string | null;

  @Column('timestamptz', { name: 'previous_secret_expires_at', nullable: true })
  previousSecretExpiresAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
