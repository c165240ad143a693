import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, isUUID, Max, Min } from 'class-validator';
import { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { ApiError } from './errors/api-error';

export class PageQueryDto {
  /** Page size, 1 to 100. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number = 50;

  /** `next_cursor` of the previous page. */
  @IsOptional()
  @IsString()
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

interface Position {
  /** created_at as Postgres prints it: microsecond precision, which a JS Date would lose. */
  t: string;
  i: string;
}

/** created_at::text as Postgres prints it, e.g. `2026-11-23 10:52:26.123456+00`. */
const POSTGRES_TIMESTAMPTZ = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/;

function decodeCursor(cursor: string): Position {
  try {
    const position = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Position;
    if (typeof position.t === 'string' && POSTGRES_TIMESTAMPTZ.test(position.t) && isUUID(position.i)) {
      return position;
    }
  } catch {
    // reported below
  }
  throw ApiError.badRequest('invalid_cursor', 'cursor is not one this API handed out', {
    hint: 'Pass next_cursor from the previous page unchanged, or omit cursor for the first page',
  });
}

/**
 * Keyset pagination, newest first, over an entity with `created_at` and `id` columns. Stable under
 * inserts, and as fast on page 1,000 as on page 1 given an index on (scope, created_at DESC, id DESC).
 */
export async function paginate<T extends ObjectLiteral & { id: string }>(
  qb: SelectQueryBuilder<T>,
  query: PageQueryDto,
): Promise<Page<T>> {
  const alias = qb.alias;
  const limit = query.limit ?? 50;
  if (query.cursor) {
    const { t, i } = decodeCursor(query.cursor);
    qb.andWhere(`(${alias}.created_at, ${alias}.id) < (:cursorTime::timestamptz, :cursorId::uuid)`, {
      cursorTime: t,
      cursorId: i,
    });
  }
  const { entities, raw } = await qb
    .addSelect(`${alias}.created_at::text`, 'page_position')
    .orderBy(`${alias}.created_at`, 'DESC')
    .addOrderBy(`${alias}.id`, 'DESC')
    .limit(limit + 1)
    .getRawAndEntities<{ page_position: string }>();
  const items = entities.slice(0, limit);
  const last = items.at(-1);
  const nextCursor =
    entities.length > limit && last
      ? Buffer.from(JSON.stringify({ t: raw[limit - 1].page_position, i: last.id })).toString('base64url')
      : null;
  return { items, nextCursor };
}
