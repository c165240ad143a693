import { Injectable } from '@nestjs/common';
import { isUUID } from 'class-validator';
import { ApiError } from '../../common/errors/api-error';
import { Page } from '../../common/pagination';
import { CampaignContact } from '../campaign.entity';
import { CampaignsService } from '../campaigns.service';
import { ContactsRepository } from './contacts.repository';
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
    private readonly contacts: ContactsRepository,
    private readonly campaigns: CampaignsService,
  ) {}

  /** In import order: earlier imports first, then by row (keyset-paginated by the last contact's id). */
  async list(
    agencyId: string,
    campaignId: string,
    query: ContactQueryDto,
  ): Promise<Page<CampaignContactDto>> {
    await this.campaigns.find(agencyId, campaignId);
    const limit = query.limit ?? 50;
    const found = await this.contacts.page(agencyId, campaignId, {
      status: query.status,
      phone: query.phone,
      afterId: query.cursor ? decodeCursor(query.cursor) : undefined,
      limit: limit + 1,
    });
    const items = found.slice(0, limit);
    const last = items.at(-1);
    return {
      items: items.map(toContactDto),
      nextCursor: found.length > limit && last ? encodeCursor(last.id) : null,
    };
  }
}
