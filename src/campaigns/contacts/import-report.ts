import { ContactImportReportDto } from './dto/contact.dto';

/** A report lists this many rows per kind; its counts stay exact. */
const MAX_LISTED_ROWS = 1_000;

class RowList<T> {
  private count = 0;
  private readonly rows: T[] = [];

  add(row: T): void {
    this.count += 1;
    if (this.rows.length < MAX_LISTED_ROWS) this.rows.push(row);
  }

  toDto(): { count: number; rows: T[]; truncated: boolean } {
    return { count: this.count, rows: this.rows, truncated: this.count > this.rows.length };
  }
}

/** What an import did with each row, filled in row order. */
export class ImportReport {
  accepted = 0;
  readonly duplicates = new RowList<{ row: number; phone: string }>();
  readonly rejected = new RowList<{ row: number; reason: string }>();
  readonly skippedDnc = new RowList<{ row: number; phone: string }>();
  readonly missingVariables = new RowList<{ row: number; phone: string; variables: string[] }>();

  toDto(): ContactImportReportDto {
    return {
      accepted: this.accepted,
      duplicates: this.duplicates.toDto(),
      rejected: this.rejected.toDto(),
      skipped_dnc: this.skippedDnc.toDto(),
      missing_variables: this.missingVariables.toDto(),
    };
  }
}
