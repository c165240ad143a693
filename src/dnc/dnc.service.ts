import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { ApiError } from '../common/errors/api-error';
import { Page } from '../common/pagination';
import { DncNumber } from './dnc-number.entity';
import { DncNumberDto, DncQueryDto } from './dto/dnc.dto';

/** `= ANY($2)` with this many numbers per query keeps each query's parameter small and fast. */
const LOOKUP_CHUNK = 5_000;

export interface AddResult {
  added: number;
  alreadyListed: number;
}

/** A page position: created_at as Postgres prints it (microseconds; a JS Date loses them) and the number. */
interface Position {
  t: string;
  p: string;
}

const POSTGRES_TIMESTAMPTZ = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/;
const E164 = /^\+\d{1,15}$/;

function encodeCursor(position: Position): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

function decodeCursor(cursor: string): Position {
  try {
    const position = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Position;
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
  constructor(@InjectRepository(DncNumber) private readonly numbers: Repository<DncNumber>) {}

  /** One INSERT for the whole batch; numbers already listed keep their reason and date. */
  async add(agencyId: string, numbers: string[], reason: string | null): Promise<AddResult> {
    // Sorted, so that two overlapping batches inserted at once take their row locks in the same order.
    const distinct = [...new Set(numbers)].sort();
    const inserted = (await this.numbers.query(
      `INSERT INTO dnc_numbers (agency_id, phone_number, reason)
       SELECT $1, phone, $3 FROM unnest($2::text[]) AS phone
       ON CONFLICT (agency_id, phone_number) DO NOTHING
       RETURNING phone_number`,
      [agencyId, distinct, reason],
    )) as unknown[];
    return { added: inserted.length, alreadyListed: distinct.length - inserted.length };
  }

  /** Newest first, keyset-paginated on (created_at, phone_number): one batch shares its created_at. */
  async list(agencyId: string, query: DncQueryDto): Promise<Page<DncNumberDto>> {
    const limit = query.limit ?? 50;
    const qb = this.numbers.createQueryBuilder('dnc').where('dnc.agency_id = :agencyId', { agencyId });
    if (query.phone) qb.andWhere('dnc.phone_number = :phone', { phone: query.phone });
    if (query.cursor) {
      const { t, p } = decodeCursor(query.cursor);
      qb.andWhere('(dnc.created_at, dnc.phone_number) < (:cursorTime::timestamptz, :cursorPhone)', {
        cursorTime: t,
        cursorPhone: p,
      });
    }
    const { entities, raw } = await qb
      .addSelect('dnc.created_at::text', 'page_position')
      .orderBy('dnc.created_at', 'DESC')
      .addOrderBy('dnc.phone_number', 'DESC')
      .limit(limit + 1)
      .getRawAndEntities<{ page_position: string }>();
    const items = entities.slice(0, limit);
    const last = items.at(-1);
    const nextCursor =
      entities.length > limit && last
        ? encodeCursor({ t: raw[limit - 1].page_position, p: last.phoneNumber })
        : null;
    return { items: items.map(toDncNumberDto), nextCursor };
  }

  async remove(agencyId: string, phone: string): Promise<void> {
    const result = await this.numbers.delete({ agencyId, phoneNumber: phone });
    if (!result.affected) {
      throw ApiError.notFound('dnc_number_not_found', `${phone} is not on this agency's do-not-call list`);
    }
  }

  /**
   * Whether the agency must not call this E.164 number. Inside a transaction pass its `em`: asking
   * through the pool while holding a connection (and a lock) can starve the pool and deadlock.
   */
  async isListed(agencyId: string, phone: string, em?: EntityManager): Promise<boolean> {
    return (em?.getRepository(DncNumber) ?? this.numbers).existsBy({ agencyId, phoneNumber: phone });
  }

  /** Which of these E.164 numbers the agency must not call (one query per 5,000 numbers). */
  async listedAmong(agencyId: string, phones: string[], em?: EntityManager): Promise<Set<string>> {
    const runner = em ?? this.numbers.manager;
    const distinct = [...new Set(phones)];
    const listed = new Set<string>();
    for (let start = 0; start < distinct.length; start += LOOKUP_CHUNK) {
      const rows = (await runner.query(
        `SELECT phone_number FROM dnc_numbers WHERE agency_id = $1 AND phone_number = ANY($2::text[])`,
        [agencyId, distinct.slice(start, start + LOOKUP_CHUNK)],
      )) as { phone_number: string }[];
      for (const row of rows) listed.add(row.phone_number);
    }
    return listed;
  }
}
