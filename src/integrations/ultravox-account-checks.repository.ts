import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull } from 'typeorm';
import { Agency } from '../agencies/agency.entity';

/** What a check saw of the agency when it started: its findings apply only if these are unchanged. */
export type CheckedAgency = Pick<Agency, 'id' | 'ultravoxApiKeyEncrypted' | 'ultravoxWebhookId'>;

/**
 * The workers' periodic check of each agency's Ultravox account (UltravoxAccountMonitor): which
 * agencies are due, and its findings (the `ultravox_*` check columns of agencies, written here and by
 * the integration save, which starts them afresh).
 */
@Injectable()
export class UltravoxAccountChecksRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Agencies with a key Ultravox has not rejected, due by `now`, the most overdue (or never checked) first. */
  due(now: Date, limit: number): Promise<Agency[]> {
    return this.db
      .getRepository(Agency)
      .createQueryBuilder('agency')
      .where('agency.ultravox_api_key_encrypted IS NOT NULL AND agency.ultravox_key_rejected_at IS NULL')
      .andWhere('(agency.ultravox_next_check_at IS NULL OR agency.ultravox_next_check_at <= :now)', { now })
      .orderBy('agency.ultravoxNextCheckAt', 'ASC', 'NULLS FIRST')
      .limit(limit)
      .getMany();
  }

  /**
   * Writes a check's findings, unless the key or the webhook changed since the check read the agency
   * (a save or a removal won the race). Resolves false when nothing was written.
   */
  async record(seen: CheckedAgency, changes: Partial<Agency>): Promise<boolean> {
    const result = await this.db.getRepository(Agency).update(
      {
        id: seen.id,
        ultravoxApiKeyEncrypted: seen.ultravoxApiKeyEncrypted ?? IsNull(),
        ultravoxWebhookId: seen.ultravoxWebhookId ?? IsNull(),
      },
      changes,
    );
    return (result.affected ?? 0) > 0;
  }
}
