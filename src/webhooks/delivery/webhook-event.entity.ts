import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

@Entity('webhook_events')
export class WebhookEvent {
  /** `evt_…`; also the `webhook-id` header, stable across retries and replays. */
  @PrimaryColumn('text')
  id: string;

  @Column('uuid', { name: 'agency_id' })
  agencyId: string;

  @Column('text')
  type: string;

  /** The exact bytes sent and signed. */
  @Column('text')
  payload: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
