import { UsageReportDto } from './dto/usage.dto';

const KEY_COLUMN = { day: 'day', agent: 'agent_id', campaign: 'campaign_id' } as const;

/** RFC 4180 quoting, for the rare value with a comma, quote or line break. */
const cell = (value: string | number | null): string => {
  const text = value === null ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

/**
 * The report as CSV (README "Usage"): a header row, then one row per group: the key (`day`,
 * `agent_id` or `campaign_id`), `calls_placed`, `connected`, `failed` (all reasons), `talk_seconds`,
 * `billed_seconds`, then one `failed_<reason>` column per failure reason in the report, sorted.
 */
export function usageCsv(report: UsageReportDto): string {
  const reasons = Object.keys(report.totals.failed).sort();
  const header = [
    KEY_COLUMN[report.group_by],
    'calls_placed',
    'connected',
    'failed',
    'talk_seconds',
    'billed_seconds',
    ...reasons.map((reason) => `failed_${reason}`),
  ];
  const lines = report.groups.map((group) => [
    group.key,
    group.calls_placed,
    group.connected,
    Object.values(group.failed).reduce((total, count) => total + count, 0),
    group.talk_seconds,
    group.billed_seconds,
    ...reasons.map((reason) => group.failed[reason] ?? 0),
  ]);
  return [header, ...lines].map((line) => line.map(cell).join(',')).join('\r\n') + '\r\n';
}
