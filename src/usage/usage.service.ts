import { Injectable } from '@nestjs/common';
import { AgenciesRepository } from '../agencies/agencies.repository';
import { isIanaTimeZone } from '../common/calling-window/calling-window';
import { validationFailed } from '../common/errors/validation';
import { UsageFiguresDto, UsageGroupDto, UsageQueryDto, UsageReportDto } from './dto/usage.dto';
import { UsageRange, UsageRepository, UsageRow } from './usage.repository';

/** A report covers at most this many days (a year, leap day included). */
export const MAX_USAGE_DAYS = 366;
const DAY_MS = 24 * 60 * 60_000;
/** The day rollup's bucket (every zone's midnight falls on one). */
const QUARTER_MS = 15 * 60_000;

const ceilTo = (at: number, step: number) => Math.ceil(at / step) * step;
const floorTo = (at: number, step: number) => Math.floor(at / step) * step;

/** Calls placed, connected, failed by reason, talk and billed seconds, per group (issue 15, point 4). */
@Injectable()
export class UsageService {
  constructor(
    private readonly usage: UsageRepository,
    private readonly agencies: AgenciesRepository,
  ) {}

  async report(agencyId: string, query: UsageQueryDto): Promise<UsageReportDto> {
    const from = new Date(query.from);
    const to = new Date(query.to);
    if (!(from < to)) throw validationFailed([{ field: 'to', message: 'to must be after from' }]);
    if (to.getTime() - from.getTime() > MAX_USAGE_DAYS * DAY_MS) {
      throw validationFailed([{ field: 'to', message: `the range must be at most ${MAX_USAGE_DAYS} days` }]);
    }
    const zone = (await this.agencies.find(agencyId))?.callingWindow?.timezone;
    const timeZone = typeof zone === 'string' && isIanaTimeZone(zone) ? zone : 'UTC';
    const groupBy = query.group_by ?? 'day';
    const rows =
      groupBy === 'day'
        ? await this.usage.byDay(rangeIn(agencyId, from, to, QUARTER_MS), timeZone)
        : groupBy === 'agent'
          ? await this.usage.byAgent(rangeIn(agencyId, from, to, DAY_MS))
          : await this.usage.byCampaign(rangeIn(agencyId, from, to, DAY_MS));
    const groups = toGroups(rows);
    return { from, to, group_by: groupBy, time_zone: timeZone, groups, totals: sum(groups) };
  }
}

/** The whole buckets of `step` inside [from, to); none when the range is inside one bucket. */
function rangeIn(agencyId: string, from: Date, to: Date, step: number): UsageRange {
  const bucketsFrom = ceilTo(from.getTime(), step);
  const bucketsTo = floorTo(to.getTime(), step);
  if (bucketsFrom >= bucketsTo) return { agencyId, from, to, bucketsFrom: to, bucketsTo: to };
  return { agencyId, from, to, bucketsFrom: new Date(bucketsFrom), bucketsTo: new Date(bucketsTo) };
}

const empty = (): UsageFiguresDto => ({
  calls_placed: 0,
  connected: 0,
  failed: {},
  talk_seconds: 0,
  billed_seconds: 0,
});

function add(
  into: UsageFiguresDto,
  row: Pick<UsageRow, 'outcome' | 'failureReason' | 'calls' | 'talkSeconds' | 'billedSeconds'>,
): void {
  into.calls_placed += row.calls;
  if (row.outcome === 'connected') into.connected += row.calls;
  if (row.outcome === 'failed')
    into.failed[row.failureReason] = (into.failed[row.failureReason] ?? 0) + row.calls;
  into.talk_seconds += row.talkSeconds;
  into.billed_seconds += row.billedSeconds;
}

/** Rows come ordered by key; groups whose calls all cancel out (none placed) are left out. */
function toGroups(rows: UsageRow[]): UsageGroupDto[] {
  const groups = new Map<string | null, UsageGroupDto>();
  for (const row of rows) {
    let group = groups.get(row.key);
    if (!group) groups.set(row.key, (group = { key: row.key, ...empty() }));
    add(group, row);
  }
  return [...groups.values()].filter((group) => group.calls_placed > 0);
}

function sum(groups: UsageGroupDto[]): UsageFiguresDto {
  const totals = empty();
  for (const group of groups) {
    totals.calls_placed += group.calls_placed;
    totals.connected += group.connected;
    for (const [reason, count] of Object.entries(group.failed)) {
      totals.failed[reason] = (totals.failed[reason] ?? 0) + count;
    }
    totals.talk_seconds += group.talk_seconds;
    totals.billed_seconds += group.billed_seconds;
  }
  return totals;
}
