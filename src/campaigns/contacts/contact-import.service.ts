import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { DataSource, EntityManager } from 'typeorm';
import { ApiError } from '../../common/errors/api-error';
import { DncService } from '../../dnc/dnc.service';
import { Campaign, CampaignStatus } from '../campaign.entity';
import { CampaignsService } from '../campaigns.service';
import { ContactInput, isRejected, RawRow, RejectedRow, validateRow } from './contact-row';
import { ContactImportReportDto } from './dto/contact.dto';
import { ImportReport } from './import-report';
import { lockCampaign } from '../campaign-lock';

/** Rows per DNC lookup and per multi-row INSERT. */
const BATCH_SIZE = 1_000;
/**
 * A JSON body is in memory already, so reading it never waits for I/O: without a turn of the event
 * loop now and then, the batch being written would stall until every later row had been validated.
 */
const ROWS_PER_TURN = 100;

const OPEN_STATUSES: readonly CampaignStatus[] = ['draft', 'running', 'paused'];

/** A row after the checks that need no database: rejected, a repeat of an earlier row, or a contact. */
type CheckedRow =
  | { kind: 'rejected'; row: RejectedRow }
  | { kind: 'repeat'; row: number; phone: string }
  | { kind: 'contact'; contact: ContactInput };

function campaignClosed(status: CampaignStatus): ApiError {
  return ApiError.conflict('campaign_closed', `A ${status} campaign takes no more contacts`, {
    hint: 'Import into a draft, running or paused campaign',
  });
}

/**
 * Imports a campaign's contacts in one transaction, so a failed import (malformed CSV, too many rows,
 * the campaign closed meanwhile) leaves nothing behind. Rows stream through in batches: validated in
 * memory (only the numbers seen so far are kept, to spot repeats), checked against the do-not-call
 * list, and inserted with ON CONFLICT DO NOTHING, which tells numbers the campaign already has.
 * A batch is written while the next one is read, so parsing and Postgres work at the same time.
 */
@Injectable()
export class ContactImportService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly campaigns: CampaignsService,
    private readonly dnc: DncService,
  ) {}

  async import(
    agencyId: string,
    campaignId: string,
    rows: AsyncIterable<RawRow | RejectedRow> | Iterable<RawRow | RejectedRow>,
  ): Promise<ContactImportReportDto> {
    const campaign = await this.campaigns.find(agencyId, campaignId);
    if (!OPEN_STATUSES.includes(campaign.status)) throw campaignClosed(campaign.status);
    return this.dataSource.transaction(async (em) => {
      // Imports into one campaign take turns: no deadlocks between overlapping lists, and each
      // import's duplicates are the numbers of the imports committed before it.
      await em.query(`SELECT pg_advisory_xact_lock(hashtextextended('campaign-import:' || $1, 0))`, [
        campaignId,
      ]);
      const report = new ImportReport();
      const seen = new Set<string>();
      let batch: CheckedRow[] = [];
      let writing: Promise<void> = Promise.resolve();
      const flush = async () => {
        await writing;
        writing = this.write(em, campaign, batch, report);
        // Awaited at the next flush; until then a failure must not count as unhandled.
        writing.catch(() => undefined);
        batch = [];
      };
      try {
        for await (const raw of rows) {
          batch.push(check(raw, seen));
          if (batch.length === BATCH_SIZE) await flush();
          else if (batch.length % ROWS_PER_TURN === 0) await nextTurn();
        }
        await flush();
      } finally {
        // Even when reading failed: the rollback must not overtake a batch still being written.
        await writing.catch(() => undefined);
      }
      await writing;
      await this.confirmOpen(em, campaign);
      return report.toDto();
    });
  }

  /** Stores a batch's contacts that are not on the do-not-call list, and reports every row of it. */
  private async write(
    em: EntityManager,
    campaign: Campaign,
    batch: CheckedRow[],
    report: ImportReport,
  ): Promise<void> {
    const contacts = batch.flatMap((checked) => (checked.kind === 'contact' ? [checked.contact] : []));
    const listed =
      contacts.length > 0
        ? await this.dnc.listedAmong(
            campaign.agencyId,
            contacts.map((c) => c.phone),
            em,
          )
        : new Set<string>();
    const inserted = await this.insert(
      em,
      campaign,
      contacts.filter((c) => !listed.has(c.phone)),
    );
    for (const checked of batch) {
      if (checked.kind === 'rejected') report.rejected.add(checked.row);
      else if (checked.kind === 'repeat') report.duplicates.add({ row: checked.row, phone: checked.phone });
      else {
        const { row, phone } = checked.contact;
        if (listed.has(phone)) report.skippedDnc.add({ row, phone });
        else if (inserted.has(phone)) report.accepted += 1;
        else report.duplicates.add({ row, phone });
      }
    }
  }

  /** One INSERT for the batch; the numbers it returns are new, the others the campaign had already. */
  private async insert(
    em: EntityManager,
    campaign: Campaign,
    contacts: ContactInput[],
  ): Promise<Set<string>> {
    if (contacts.length === 0) return new Set();
    const rows = (await em.query(
      `INSERT INTO campaign_contacts (campaign_id, agency_id, row_number, phone_number, name, email, variables)
       SELECT $1, $2, r.row_number, r.phone_number, r.name, r.email, r.variables::jsonb
         FROM unnest($3::int[], $4::text[], $5::text[], $6::text[], $7::text[])
           AS r(row_number, phone_number, name, email, variables)
       ON CONFLICT (campaign_id, phone_number) DO NOTHING
       RETURNING phone_number`,
      [
        campaign.id,
        campaign.agencyId,
        contacts.map((c) => c.row),
        contacts.map((c) => c.phone),
        contacts.map((c) => c.name),
        contacts.map((c) => c.email),
        contacts.map((c) => JSON.stringify(c.variables)),
      ],
    )) as { phone_number: string }[];
    return new Set(rows.map((r) => r.phone_number));
  }

  /**
   * The campaign may have been canceled or finished while the rows streamed in. Under the dispatcher's
   * lock (campaign-dispatcher.ts) and a share lock on the campaign, it cannot finish or be canceled
   * before this commits; once committed, a cancel cancels these contacts like any other pending one.
   */
  private async confirmOpen(em: EntityManager, campaign: Campaign): Promise<void> {
    await lockCampaign(em, campaign.id);
    const [{ status }] = (await em.query(`SELECT status FROM campaigns WHERE id = $1 FOR SHARE`, [
      campaign.id,
    ])) as [{ status: CampaignStatus }];
    if (!OPEN_STATUSES.includes(status)) throw campaignClosed(status);
  }
}

function check(raw: RawRow | RejectedRow, seen: Set<string>): CheckedRow {
  const validated = isRejected(raw) ? raw : validateRow(raw);
  if (isRejected(validated)) return { kind: 'rejected', row: validated };
  if (seen.has(validated.phone)) return { kind: 'repeat', row: validated.row, phone: validated.phone };
  seen.add(validated.phone);
  return { kind: 'contact', contact: validated };
}
