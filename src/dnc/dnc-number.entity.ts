import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** A number the agency must never call (do-not-call list). */
@Entity('dnc_numbers')
export class DncNumber {
  @PrimaryColumn('uuid', { name: 'agency_id' })
  agencyId: string;

  /** E.164. */
  @PrimaryColumn('text', { name: 'phone_number' })
  phoneNumber: string;

  @Column('text', { nullable: true })
  reason: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
