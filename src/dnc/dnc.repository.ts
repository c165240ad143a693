import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { Db, runSql, statement } from '../database/sql';
import { DncNumber } from './dnc-number.entity';

/** `= ANY($2)` with this many numbers per query keeps each query's parameter small and fast. */
const LOOKUP_CHUNK = 5_000;

/**
 * Planned per execution (`reusePlan: false`): dnc_numbers starts empty, and a generic plan fixed then
 * (a sequential scan) would outlive the list's growth; per execution it is a primary-key lookup.
 */
const LISTED_AMONG = statement(
  'dnc_listed_among',
  `SELECT phone_number FROM dnc_numbers WHERE agency_id = $1 AND phone_number = ANY($2::text[])`,
  { reusePlan: false },
);

const IS_LISTED = statement(
  'dnc_is_listed',
  `SELECT 1 FROM dnc_numbers WHERE agency_id = $1 AND phone_number = $2`,
  { reusePlan: false },
);

const ADD = statement(
  'dnc_add',
  `INSERT INTO dnc_numbers (agency_id, phone_number, reason)
   SELECT $1, phone, $3 FROM unnest($2::text[]) AS phone
   ON CONFLICT (agency_id, phone_number) DO NOTHING
   RETURNING phone_number`,
);

/** A page position: created_at as Postgres prints it (microseconds; a JS Date loses them) and the number. */
export interface DncPosition {
  t: string;
  p: string;
}

export interface DncPageQuery {
  phone?: string;
  after?: DncPosition;
  limit: number;
}

/** Every query on the do-not-call list, each scoped by agencyId. */
@Injectable()
export class DncRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRepository(DncNumber) private readonly numbers: Repository<DncNumber>,
  ) {}

  /** One INSERT for the whole batch; returns how many were new (listed ones keep their reason and date). */
  async add(agencyId: string, numbers: readonly string[], reason: string | null): Promise<number> {
    return (await runSql(this.dataSource, ADD, [agencyId, numbers, reason])).length;
  }

  /** Newest first on (created_at, phone_number), each row with its page position. */
  async page(agencyId: string, query: DncPageQuery): Promise<{ row: DncNumber; position: DncPosition }[]> {
    const qb = this.numbers.createQueryBuilder('dnc').where('dnc.agency_id = :agencyId', { agencyId });
    if (query.phone) qb.andWhere('dnc.phone_number = :phone', { phone: query.phone });
    if (query.after) {
      qb.andWhere('(dnc.created_at, dnc.phone_number) < (:cursorTime::timestamptz, :cursorPhone)', {
        cursorTime: query.after.t,
        cursorPhone: query.after.p,
      });
    }
    const { entities, raw } = await qb
      .addSelect('dnc.created_at::text', 'page_position')
      .orderBy('dnc.created_at', 'DESC')
      .addOrderBy('dnc.phone_number', 'DESC')
      .limit(query.limit)
      .getRawAndEntities<{ page_position: string }>();
    return entities.map((row, i) => ({ row, position: { t: raw[i].page_position, p: row.phoneNumber } }));
  }

  /** False when the number was not listed. */
  async remove(agencyId: string, phone: string): Promise<boolean> {
    const result = await this.numbers.delete({ agencyId, phoneNumber: phone });
    return Boolean(result.affected);
  }

  /**
   * Whether the number is listed. Inside a transaction pass its handle: asking through the pool while
   * holding a connection (and a lock) can starve the pool and deadlock.
   */
  async isListed(agencyId: string, phone: string, db: Db = this.dataSource): Promise<boolean> {
    return (await runSql(db, IS_LISTED, [agencyId, phone])).length > 0;
  }

  /** Which of these numbers are listed (one query per 5,000 numbers). */
  async listedAmong(
    agencyId: string,
    phones: readonly string[],
    db: Db = this.dataSource,
  ): Promise<Set<string>> {
    const distinct = [...new Set(phones)];
    const listed = new Set<string>();
    for (let start = 0; start < distinct.length; start += LOOKUP_CHUNK) {
      const rows = await runSql<{ phone_number: string }>(db, LISTED_AMONG, [
        agencyId,
        distinct.slice(start, start + LOOKUP_CHUNK),
      ]);
      for (const row of rows) listed.add(row.phone_number);
    }
    return listed;
  }
}
