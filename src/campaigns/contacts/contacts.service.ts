import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { isUUID } from 'class-validator';
import { Repository } from 'typeorm';
import { ApiError } from '../../common/errors/api-error';
import { Page } from '../../common/pagination';
import { CampaignContact } from '../campaign.entity';
import { CampaignsService } from '../campaigns.service';
import { CampaignContactDto, ContactQueryDto } from './dto/contact.dto';

function toContactDto(contact: CampaignContact): CampaignContactDto {
  return {
    id: contact.id,
    row_number: contact.rowNumber,
    phone_number: contact.phoneNumber,
    name: contact.name,
    email: contact.email,
    variables: contact.variables,
    status: contact.status,
    attempts: contact.attempts,
    last_outcome: contact.lastOutcome,
    last_call_id: contact.lastCallId,
    next_attempt_at: contact.nextAttemptAt,
    created_at: contact.createdAt,
  };
}

/** The cursor is the last contact's id: its import time and row are looked up, never trusted from the client. */
function encodeCursor(id: string): string {
  return Buffer.from(id).toString('base64url');
}

function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (isUUID(id)) return id;
  throw ApiError.badRequest('invalid_cursor', 'cursor is not one this API handed out', {
    hint: 'Pass next_cursor from the previous page unchanged, or omit cursor for the first page',
  });
}

@Injectable()
export class CampaignContactsService {
  constructor(
    @InjectRepository(CampaignContact) private readonly contacts: Repository<CampaignContact>,
    private readonly campaigns: CampaignsService,
  ) {}

  /**
   * In import order: earlier imports first, then by row. Keyset-paginated on (created_at, row_number,
   * id); all rows of one import share created_at (their transaction's start), so row_number orders them.
   */
  async list(
    agencyId: string,
    campaignId: string,
    query: ContactQueryDto,
  ): Promise<Page<CampaignContactDto>> {
    await this.campaigns.find(agencyId, campaignId);
    const limit = query.limit ?? 50;
    const qb = this.contacts
      .createQueryBuilder('contact')
      .where('contact.campaign_id = :campaignId AND contact.agency_id = :agencyId', { campaignId, agencyId });
    if (query.status) qb.andWhere('contact.status = :status', { status: query.status });
    if (query.phone) qb.andWhere('contact.phone_number = :phone', { phone: query.phone });
    if (query.cursor) {
      qb.andWhere(
        `(contact.created_at, contact.row_number, contact.id) >
           (SELECT prev.created_at, prev.row_number, prev.id FROM campaign_contacts prev
             WHERE prev.id = :cursorId AND prev.campaign_id = :campaignId)`,
        { cursorId: decodeCursor(query.cursor) },
      );
    }
    const found = await qb
      .orderBy('contact.created_at', 'ASC')
      .addOrderBy('contact.row_number', 'ASC')
      .addOrderBy('contact.id', 'ASC')
      .limit(limit + 1)
      .getMany();
    const items = found.slice(0, limit);
    const last = items.at(-1);
    return {
      items: items.map(toContactDto),
      nextCursor: found.length > limit && last ? encodeCursor(last.id) : null,
    };
  }
}
