import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** An Idempotency-Key of trigger-call (CONTRACT §5.3) and the answer stored for it, kept 24 h. */
@Entity('idempotency_keys')
export class IdempotencyKey {
  @PrimaryColumn('uuid', { name: 'agency_id' })
  agencyId: string;

  @PrimaryColumn('text')
  key: string;

  /** sha256 of the canonical request body. */
  @Column('text', { name: 'request_hash' })
  requestHash: string;

  /** Null while the first request with the key is still running. */
  @Column('integer', { name: 'status_code', nullable: true })
  statusCode: number | null;

  @Column('text', { nullable: true })
  response: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
