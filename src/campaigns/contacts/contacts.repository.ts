import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import type { CallStatus } from '../../calls/call.entity';
import { literals, runSql, statement, Tx } from '../../database/sql';
import { CampaignContact, ContactStatus } from '../campaign.entity';
import type { ContactInput } from './contact-row';

/*
 * Every query on campaign_contacts. The import's INSERT is a named prepared statement (parsed and
 * planned once per connection: an import of 100,000 rows runs it 100 times, and its plan does not
 * depend on the table's size). The others are planned per execution (`reusePlan: false`): the table
 * starts empty, and a generic plan fixed then (a sequential scan) would outlive its growth.
 */

/** Imports into one campaign take turns (a transaction-scoped advisory lock). */
const LOCK_IMPORTS = statement(
  'contacts_lock_imports',
  `SELECT pg_advisory_xact_lock(hashtextextended('campaign-import:' || $1, 0))`,
  { reusePlan: false },
);

const INSERT_BATCH = statement(
  'contacts_insert_batch',
  `INSERT INTO campaign_contacts (campaign_id, agency_id, row_number, phone_number, name, email, variables)
   SELECT $1, $2, r.row_number, r.phone_number, r.name, r.email, r.variables::jsonb
     FROM unnest($3::int[], $4::text[], $5::text[], $6::text[], $7::text[])
       AS r(row_number, phone_number, name, email, variables)
   ON CONFLICT (campaign_id, phone_number) DO NOTHING
   RETURNING phone_number`,
);

const COUNT = statement(
  'contacts_count',
  `SELECT count(*)::int AS n FROM campaign_contacts WHERE campaign_id = $1`,
  { reusePlan: false },
);

const COUNT_LIVE = statement(
  'contacts_count_live',
  `SELECT count(*)::int AS n FROM campaign_contacts
    WHERE campaign_id = $1 AND status = ${literals<ContactStatus>('in_progress')}`,
  { reusePlan: false },
);

/** In-progress contacts whose call has ended, with how it ended. */
const ENDED = statement(
  'contacts_ended',
  `SELECT c.id, c.attempts, k.status AS call_status, k.failure_reason
     FROM campaign_contacts c JOIN calls k ON k.id = c.last_call_id
    WHERE c.campaign_id = $1 AND c.status = ${literals<ContactStatus>('in_progress')}
      AND k.status IN (${literals<CallStatus>('completed', 'failed', 'canceled')})`,
  { reusePlan: false },
);

const SETTLE = statement(
  'contacts_settle',
  `UPDATE campaign_contacts c
      SET status = u.status, last_outcome = u.outcome, next_attempt_at = u.next_attempt_at, updated_at = now()
     FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[]) AS u(id, status, outcome, next_attempt_at)
    WHERE c.id = u.id`,
  { reusePlan: false },
);

/** Pending contacts due now, in import order; rows another transaction holds are skipped. */
const CLAIM_DUE = statement(
  'contacts_claim_due',
  `SELECT id, row_number, phone_number, name, email, variables, attempts
     FROM campaign_contacts
    WHERE campaign_id = $1 AND status = ${literals<ContactStatus>('pending')} AND next_attempt_at <= $2
    ORDER BY next_attempt_at, row_number
    LIMIT $3
      FOR UPDATE SKIP LOCKED`,
  { reusePlan: false },
);

const SKIP_DNC = statement(
  'contacts_skip_dnc',
  `UPDATE campaign_contacts SET status = ${literals<ContactStatus>('skipped')}, last_outcome = 'on_dnc', updated_at = now()
    WHERE id = ANY($1::uuid[])`,
  { reusePlan: false },
);

const MARK_DIALED = statement(
  'contacts_mark_dialed',
  `UPDATE campaign_contacts c
      SET status = ${literals<ContactStatus>('in_progress')}, attempts = c.attempts + 1, last_call_id = u.call_id,
          updated_at = now()
     FROM unnest($1::uuid[], $2::uuid[]) AS u(id, call_id)
    WHERE c.id = u.id`,
  { reusePlan: false },
);

const CANCEL_PENDING = statement(
  'contacts_cancel_pending',
  `UPDATE campaign_contacts
      SET status = ${literals<ContactStatus>('canceled')}, last_outcome = 'canceled', updated_at = now()
    WHERE campaign_id = $1 AND status = ${literals<ContactStatus>('pending')}`,
  { reusePlan: false },
);

/**
 * The contacts of withdrawn calls: back to pending with that attempt not counted (pause), or canceled.
 */
const RELEASE_WITHDRAWN = statement(
  'contacts_release_withdrawn',
  `UPDATE campaign_contacts c
      SET status = CASE WHEN $2 THEN ${literals<ContactStatus>('pending')} ELSE ${literals<ContactStatus>('canceled')} END,
          attempts = CASE WHEN $2 THEN c.attempts - 1 ELSE c.attempts END,
          last_outcome = CASE WHEN $2 THEN c.last_outcome ELSE 'canceled' END,
          updated_at = now()
    WHERE c.last_call_id = ANY($1::uuid[]) AND c.status = ${literals<ContactStatus>('in_progress')}`,
  { reusePlan: false },
);

export interface EndedContact {
  id: string;
  attempts: number;
  callStatus: CallStatus;
  failureReason: string | null;
}

export interface ContactSettlement {
  id: string;
  status: ContactStatus;
  outcome: string;
  nextAttemptAt: Date;
}

export interface DueContact {
  id: string;
  rowNumber: number;
  phoneNumber: string;
  name: string | null;
  email: string | null;
  variables: Record<string, string>;
  attempts: number;
}

export interface ContactPageQuery {
  status?: ContactStatus;
  phone?: string;
  /** The id of the previous page's last contact. */
  afterId?: string;
  limit: number;
}

@Injectable()
export class ContactsRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRepository(CampaignContact) private readonly contacts: Repository<CampaignContact>,
  ) {}

  async lockImports(tx: Tx, campaignId: string): Promise<void> {
    await runSql(tx, LOCK_IMPORTS, [campaignId]);
  }

  /** One INSERT for the batch; returns the numbers it added (the others the campaign had already). */
  async insertBatch(
    tx: Tx,
    campaign: { id: string; agencyId: string },
    contacts: readonly ContactInput[],
  ): Promise<Set<string>> {
    if (contacts.length === 0) return new Set();
    const rows = await runSql<{ phone_number: string }>(tx, INSERT_BATCH, [
      campaign.id,
      campaign.agencyId,
      contacts.map((c) => c.row),
      contacts.map((c) => c.phone),
      contacts.map((c) => c.name),
      contacts.map((c) => c.email),
      contacts.map((c) => JSON.stringify(c.variables)),
    ]);
    return new Set(rows.map((r) => r.phone_number));
  }

  /**
   * In import order: earlier imports first, then by row. Keyset-paginated on (created_at, row_number,
   * id); all rows of one import share created_at (their transaction's start), so row_number orders them.
   */
  page(agencyId: string, campaignId: string, query: ContactPageQuery): Promise<CampaignContact[]> {
    const qb = this.contacts
      .createQueryBuilder('contact')
      .where('contact.campaign_id = :campaignId AND contact.agency_id = :agencyId', { campaignId, agencyId });
    if (query.status) qb.andWhere('contact.status = :status', { status: query.status });
    if (query.phone) qb.andWhere('contact.phone_number = :phone', { phone: query.phone });
    if (query.afterId) {
      qb.andWhere(
        `(contact.created_at, contact.row_number, contact.id) >
           (SELECT prev.created_at, prev.row_number, prev.id FROM campaign_contacts prev
             WHERE prev.id = :cursorId AND prev.campaign_id = :campaignId)`,
        { cursorId: query.afterId },
      );
    }
    return qb
      .orderBy('contact.created_at', 'ASC')
      .addOrderBy('contact.row_number', 'ASC')
      .addOrderBy('contact.id', 'ASC')
      .limit(query.limit)
      .getMany();
  }

  async count(campaignId: string): Promise<number> {
    const [{ n }] = await runSql<{ n: number }>(this.dataSource, COUNT, [campaignId]);
    return n;
  }

  async countLive(tx: Tx, campaignId: string): Promise<number> {
    const [{ n }] = await runSql<{ n: number }>(tx, COUNT_LIVE, [campaignId]);
    return n;
  }

  async ended(tx: Tx, campaignId: string): Promise<EndedContact[]> {
    const rows = await runSql<{
      id: string;
      attempts: number;
      call_status: CallStatus;
      failure_reason: string | null;
    }>(tx, ENDED, [campaignId]);
    return rows.map((r) => ({
      id: r.id,
      attempts: r.attempts,
      callStatus: r.call_status,
      failureReason: r.failure_reason,
    }));
  }

  /** One UPDATE for every settled contact. */
  async settle(tx: Tx, settlements: readonly ContactSettlement[]): Promise<void> {
    if (settlements.length === 0) return;
    await runSql(tx, SETTLE, [
      settlements.map((s) => s.id),
      settlements.map((s) => s.status),
      settlements.map((s) => s.outcome),
      settlements.map((s) => s.nextAttemptAt),
    ]);
  }

  /** Locks up to `limit` due pending contacts for the rest of `tx`. */
  async claimDue(tx: Tx, campaignId: string, now: Date, limit: number): Promise<DueContact[]> {
    const rows = await runSql<{
      id: string;
      row_number: number;
      phone_number: string;
      name: string | null;
      email: string | null;
      variables: Record<string, string>;
      attempts: number;
    }>(tx, CLAIM_DUE, [campaignId, now, limit]);
    return rows.map((r) => ({
      id: r.id,
      rowNumber: r.row_number,
      phoneNumber: r.phone_number,
      name: r.name,
      email: r.email,
      variables: r.variables,
      attempts: r.attempts,
    }));
  }

  async skipListed(tx: Tx, ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await runSql(tx, SKIP_DNC, [ids]);
  }

  /** The contacts' new calls: in progress, one more attempt counted. */
  async markDialed(tx: Tx, dialed: readonly { contactId: string; callId: string }[]): Promise<void> {
    if (dialed.length === 0) return;
    await runSql(tx, MARK_DIALED, [dialed.map((d) => d.contactId), dialed.map((d) => d.callId)]);
  }

  async cancelPending(tx: Tx, campaignId: string): Promise<void> {
    await runSql(tx, CANCEL_PENDING, [campaignId]);
  }

  /**
   * The contacts whose calls were withdrawn before they rang: on pause back to pending, that attempt
   * not counted, so resume dials them again; on cancel they end canceled.
   */
  async releaseWithdrawn(tx: Tx, callIds: readonly string[], action: 'pause' | 'cancel'): Promise<void> {
    if (callIds.length === 0) return;
    await runSql(tx, RELEASE_WITHDRAWN, [callIds, action === 'pause']);
  }
}
