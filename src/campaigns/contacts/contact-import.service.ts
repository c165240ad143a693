import { Injectable } from '@nestjs/common';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { emptyVariables, templateContextOf } from '../../calls/template-context';
import { ApiError } from '../../common/errors/api-error';
import type { Tx } from '../../database/sql';
import { Transactions } from '../../database/transactions';
import { DncService } from '../../dnc/dnc.service';
import { Campaign, CampaignStatus } from '../campaign.entity';
import { CampaignsRepository } from '../campaigns.repository';
import { CampaignsService } from '../campaigns.service';
import { ContactInput, isRejected, RawRow, RejectedRow, validateRow } from './contact-row';
import { ContactsRepository } from './contacts.repository';
import { ContactImportReportDto } from './dto/contact.dto';
import { ImportReport } from './import-report';

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
    private readonly transactions: Transactions,
    private readonly campaigns: CampaignsService,
    private readonly campaignRows: CampaignsRepository,
    private readonly contacts: ContactsRepository,
    private readonly dnc: DncService,
  ) {}

  async import(
    agencyId: string,
    campaignId: string,
    rows: AsyncIterable<RawRow | RejectedRow> | Iterable<RawRow | RejectedRow>,
  ): Promise<ContactImportReportDto> {
    const campaign = await this.campaigns.find(agencyId, campaignId);
    if (!OPEN_STATUSES.includes(campaign.status)) throw campaignClosed(campaign.status);
    const declared = await this.campaigns.contextVariables(campaign);
    return this.transactions.run(async (tx) => {
      // Imports into one campaign take turns: no deadlocks between overlapping lists, and each
      // import's duplicates are the numbers of the imports committed before it.
      await this.contacts.lockImports(tx, campaignId);
      const report = new ImportReport();
      const seen = new Set<string>();
      let batch: CheckedRow[] = [];
      let writing: Promise<void> = Promise.resolve();
      const flush = async () => {
        await writing;
        writing = this.write(tx, campaign, batch, report, declared);
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
      await this.confirmOpen(tx, campaign);
      return report.toDto();
    });
  }

  /** Stores a batch's contacts that are not on the do-not-call list, and reports every row of it. */
  private async write(
    tx: Tx,
    campaign: Campaign,
    batch: CheckedRow[],
    report: ImportReport,
    declared: string[] | null,
  ): Promise<void> {
    const contacts = batch.flatMap((checked) => (checked.kind === 'contact' ? [checked.contact] : []));
    const listed =
      contacts.length > 0
        ? await this.dnc.listedAmong(
            campaign.agencyId,
            contacts.map((c) => c.phone),
            tx,
          )
        : new Set<string>();
    const inserted = await this.contacts.insertBatch(
      tx,
      campaign,
      contacts.filter((c) => !listed.has(c.phone)),
    );
    for (const checked of batch) {
      if (checked.kind === 'rejected') report.rejected.add(checked.row);
      else if (checked.kind === 'repeat') report.duplicates.add({ row: checked.row, phone: checked.phone });
      else {
        const { row, phone } = checked.contact;
        if (listed.has(phone)) report.skippedDnc.add({ row, phone });
        else if (inserted.has(phone)) {
          report.accepted += 1;
          const variables = emptyVariables(contextOf(checked.contact), declared);
          if (variables.length > 0) report.missingVariables.add({ row, phone, variables });
        } else report.duplicates.add({ row, phone });
      }
    }
  }

  /**
   * The campaign may have been canceled or finished while the rows streamed in. Under the campaign's
   * lock (ticks skip the campaign, a cancel waits) and a share lock on its row, it cannot finish or be
   * canceled before this commits; once committed, a cancel cancels these contacts like any other.
   */
  private async confirmOpen(tx: Tx, campaign: Campaign): Promise<void> {
    await this.campaignRows.lock(tx, campaign.id);
    const status = await this.campaignRows.statusForShare(tx, campaign.id);
    if (!OPEN_STATUSES.includes(status)) throw campaignClosed(status);
  }
}

/** The templateContext the contact's call will carry (the dispatcher passes its variables as metadata). */
function contextOf(contact: ContactInput): Record<string, string> {
  return templateContextOf({
    phoneNumber: contact.phone,
    name: contact.name,
    email: contact.email,
    metadata: contact.variables,
  });
}

function check(raw: RawRow | RejectedRow, seen: Set<string>): CheckedRow {
  const validated = isRejected(raw) ? raw : validateRow(raw);
  if (isRejected(validated)) return { kind: 'rejected', row: validated };
  if (seen.has(validated.phone)) return { kind: 'repeat', row: validated.row, phone: validated.phone };
  seen.add(validated.phone);
  return { kind: 'contact', contact: validated };
}
