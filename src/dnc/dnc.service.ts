import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/errors/api-error';
import { Page } from '../common/pagination';
import type { Tx } from '../database/sql';
import { DncNumber } from './dnc-number.entity';
import { DncPosition, DncRepository } from './dnc.repository';
import { DncNumberDto, DncQueryDto } from './dto/dnc.dto';

export interface AddResult {
  added: number;
  alreadyListed: number;
}

const POSTGRES_TIMESTAMPTZ = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/;
const E164 = /^\+\d{1,15}$/;

function encodeCursor(position: DncPosition): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

function decodeCursor(cursor: string): DncPosition {
  try {
    const position = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as DncPosition;
    if (
      typeof position.t === 'string' &&
      POSTGRES_TIMESTAMPTZ.test(position.t) &&
      typeof position.p === 'string' &&
      E164.test(position.p)
    ) {
      return position;
    }
  } catch {
    // reported below
  }
  throw ApiError.badRequest('invalid_cursor', 'cursor is not one this API handed out', {
    hint: 'Pass next_cursor from the previous page unchanged, or omit cursor for the first page',
  });
}

function toDncNumberDto(row: DncNumber): DncNumberDto {
  return { phone_number: row.phoneNumber, reason: row.reason, created_at: row.createdAt };
}

/**
 * The agency's do-not-call list. Every query is scoped by agencyId: one agency's list neither shows
 * in nor blocks another's calls. Numbers are E.164 throughout (callers normalise with toE164).
 */
@Injectable()
export class DncService {
  constructor(private readonly numbers: DncRepository) {}

  /** One INSERT for the whole batch; numbers already listed keep their reason and date. */
  async add(agencyId: string, numbers: string[], reason: string | null): Promise<AddResult> {
    // Sorted, so that two overlapping batches inserted at once take their row locks in the same order.
    const distinct = [...new Set(numbers)].sort();
    const added = await this.numbers.add(agencyId, distinct, reason);
    return { added, alreadyListed: distinct.length - added };
  }

  /** Newest first, keyset-paginated on (created_at, phone_number): one batch shares its created_at. */
  async list(agencyId: string, query: DncQueryDto): Promise<Page<DncNumberDto>> {
    const limit = query.limit ?? 50;
    const found = await this.numbers.page(agencyId, {
      phone: query.phone,
      after: query.cursor ? decodeCursor(query.cursor) : undefined,
      limit: limit + 1,
    });
    const items = found.slice(0, limit);
    const last = items.at(-1);
    return {
      items: items.map(({ row }) => toDncNumberDto(row)),
      nextCursor: found.length > limit && last ? encodeCursor(last.position) : null,
    };
  }

  async remove(agencyId: string, phone: string): Promise<void> {
    if (!(await this.numbers.remove(agencyId, phone))) {
      throw ApiError.notFound('dnc_number_not_found', `${phone} is not on this agency's do-not-call list`);
    }
  }

  /** Whether the agency must not call this E.164 number; inside a transaction pass its `tx`. */
  isListed(agencyId: string, phone: string, tx?: Tx): Promise<boolean> {
    return this.numbers.isListed(agencyId, phone, tx);
  }

  /** Which of these E.164 numbers the agency must not call; inside a transaction pass its `tx`. */
  listedAmong(agencyId: string, phones: string[], tx?: Tx): Promise<Set<string>> {
    return this.numbers.listedAmong(agencyId, phones, tx);
  }
}
