import { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { decodeCursor, encodeCursor, Page } from '../common/pagination';
import { PageQueryDto } from '../common/dto/page-query.dto';

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
    entities.length > limit && last ? encodeCursor({ t: raw[limit - 1].page_position, i: last.id }) : null;
  return { items, nextCursor };
}
