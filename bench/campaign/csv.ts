/**
 * Contact lists for bench:campaign, as an agency's CRM exports them: `phone,name,email` plus two extra
 * columns (`company`, `plan`) that become the contacts' variables. Deterministic (a seed picks the
 * names), distinct numbers, every row valid — so an import must accept every one of them.
 *
 * Numbers are North American (PhoneStyle below). Most are written in E.164, one in ten formatted as
 * people type them (`+1 (415) 234-5678`); one name in ten is "Last, First" (quoted, with a comma), some
 * companies carry quotes — what a real export has.
 */

/** Words of a template literal, split on whitespace (or on `separator`, trimmed). */
const list = (text: string, separator?: string) =>
  separator ? text.split(separator).map((item) => item.trim()) : text.trim().split(/\s+/);

const FIRST = list(`
  James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan
  Joseph Jessica Thomas Sarah Carlos Zoë Ahmed Mei Olusegun Priya Sven Chloé Mateo Aiko Fatima Noah
`);
const LAST = list(`
  Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez
  Wilson Anderson Thomas Taylor Moore Jackson Martin O'Brien Nguyen Kim Okafor Patel Müller Rossi
  Tanaka Haddad Kowalski
`);
const COMPANIES = list(
  `
  Acme Dental | Bright Smiles Clinic | Northside Auto Repair | Sunrise Realty | Green Leaf Landscaping
  | Harbor Insurance | Peak Fitness | Maple Street Bakery | Blue Ocean Travel | Summit Legal LLP |
  Riverside Vet | Golden Gate Plumbing | Evergreen Senior Living | Metro HVAC | Lakeside Pediatrics
`,
  '|',
);
const PLANS = list('basic standard premium trial enterprise');

/** The simulator turns these last four digits into failures (tools/ultravox-sim/README.md, "Scenarios"). */
const SCENARIO_SUFFIXES = new Set(['0000', '0486', '0500', '0666', '0999']);

/** A small deterministic PRNG (mulberry32), so two runs import the same list. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const quote = (value: string) => (/[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);

export interface ContactList {
  csv: Buffer;
  rows: number;
  /** The numbers in E.164, in row order. */
  phones: string[];
}

/**
 * `us`: numbers of forty real US area codes with valid exchanges ([2-9]XX), as a US agency's list has.
 * `555`: +1 555 XXX XXXX, fictional (no North American country claims the area code 555): libphonenumber
 * then tries every NANP country's patterns before settling for "possible", the slowest case to validate.
 */
export type PhoneStyle = 'us' | '555';
export const PHONE_STYLES: readonly PhoneStyle[] = ['us', '555'];

const AREA_CODES = list(`
  212 213 214 215 216 217 301 302 303 305 310 312 313 314 404 405 406 407 408 410 412 414 415 503 504
  512 513 602 612 615 617 619 702 704 713 720 801 813 919 971
`);
/** Prime, coprime with 8·10⁶ and 10⁷: `offset + i·STRIDE` never repeats within either range. */
const STRIDE = 7_919;

/** The number of row `n`, as E.164 and as written in the CSV (one in ten formatted as people type it). */
function phoneOf(style: PhoneStyle, n: number, offset: number): { e164: string; written: string } {
  let area: string;
  let subscriber: string;
  if (style === '555') {
    area = '555';
    subscriber = String((offset + n * STRIDE) % 10_000_000).padStart(7, '0');
  } else {
    // Per area code, 8·10⁶ subscriber numbers whose exchange starts with 2–9.
    area = AREA_CODES[n % AREA_CODES.length];
    const k = (offset + Math.floor(n / AREA_CODES.length) * STRIDE) % 8_000_000;
    subscriber = `${2 + Math.floor(k / 1_000_000)}${String(k % 1_000_000).padStart(6, '0')}`;
  }
  const e164 = `+1${area}${subscriber}`;
  const written = n % 10 === 7 ? `+1 (${area}) ${subscriber.slice(0, 3)}-${subscriber.slice(3)}` : e164;
  return { e164, written };
}

/**
 * `rows` distinct contacts; numbers ending in a simulator scenario suffix are left out, so every call of
 * a dispatched list is answered.
 */
export function contactList(
  rows: number,
  offset: number,
  seed: number,
  style: PhoneStyle = 'us',
): ContactList {
  const pick = random(seed);
  const choose = <T>(list: T[]) => list[Math.floor(pick() * list.length)];
  const lines: string[] = ['phone,name,email,company,plan'];
  const phones: string[] = [];
  for (let i = 0; phones.length < rows; i += 1) {
    const { e164, written } = phoneOf(style, i, offset);
    if (SCENARIO_SUFFIXES.has(e164.slice(-4))) continue;
    const n = phones.length;
    phones.push(e164);
    const first = choose(FIRST);
    const last = choose(LAST);
    const name = n % 10 === 3 ? `${last}, ${first}` : `${first} ${last}`;
    const email = `${first}.${last}.${n}@example.com`
      .toLowerCase()
      .normalize('NFD')
      .replace(/[^a-z0-9.@]/g, '');
    const company = n % 25 === 0 ? `${choose(COMPANIES)} "Downtown"` : choose(COMPANIES);
    lines.push([written, quote(name), email, quote(company), choose(PLANS)].join(','));
  }
  lines.push('');
  return { csv: Buffer.from(lines.join('\r\n'), 'utf8'), rows, phones };
}
