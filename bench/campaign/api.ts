/** The campaign endpoints bench:campaign drives, with the agency's API key (CONTRACT §5.4). */
import { Readable } from 'node:stream';
import { Client, request } from 'undici';

export interface ImportReport {
  accepted: number;
  duplicates: { count: number };
  rejected: { count: number; rows: { row: number; reason: string }[] };
  skipped_dnc: { count: number };
}

export interface CampaignView {
  id: string;
  status: string;
  stats: Record<string, number>;
  started_at: string | null;
  finished_at: string | null;
}

async function json<T>(
  base: string,
  apiKey: string,
  method: 'POST' | 'GET',
  path: string,
  body: unknown,
  expected: number,
): Promise<T> {
  const res = await request(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${apiKey}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.body.text();
  if (res.statusCode !== expected) throw new Error(`${method} ${path}: ${res.statusCode} ${text}`);
  return (JSON.parse(text) as { data: T }).data;
}

export function createCampaign(
  base: string,
  apiKey: string,
  name: string,
  maxConcurrency: number,
): Promise<CampaignView> {
  return json(base, apiKey, 'POST', '/api/v1/campaigns', { name, max_concurrency: maxConcurrency }, 201);
}

export function startCampaign(base: string, apiKey: string, id: string): Promise<CampaignView> {
  return json(base, apiKey, 'POST', `/api/v1/campaigns/${id}/start`, undefined, 200);
}

export function getCampaign(base: string, apiKey: string, id: string): Promise<CampaignView> {
  return json(base, apiKey, 'GET', `/api/v1/campaigns/${id}`, undefined, 200);
}

export interface TimedUpload {
  status: number;
  report: ImportReport | null;
  error: string | null;
  bytes: number;
  /** From the first byte handed to the socket to the end of the answer. */
  ms: number;
  /** From the first to the last byte handed to the socket: ~ms when the server reads as it parses. */
  sendMs: number;
  /** From the last byte sent to the end of the answer: what the server did after the body ended. */
  tailMs: number;
}

const UPLOAD_CHUNK = 64 * 1024;

/**
 * POSTs a CSV as a stream of 64 KB chunks over a connection opened beforehand (so connecting is not
 * timed), as `curl --data-binary @list.csv -H 'Content-Type: text/csv'` would.
 */
export async function uploadCsv(base: string, apiKey: string, id: string, csv: Buffer): Promise<TimedUpload> {
  const client = new Client(base, { headersTimeout: 300_000, bodyTimeout: 300_000 });
  try {
    const warm = await client.request({ method: 'GET', path: '/health' });
    await warm.body.dump();
    let firstSent = 0n;
    let lastSent = 0n;
    const body = Readable.from(
      (function* () {
        for (let at = 0; at < csv.length; at += UPLOAD_CHUNK) {
          const now = process.hrtime.bigint();
          if (at === 0) firstSent = now;
          yield csv.subarray(at, at + UPLOAD_CHUNK);
        }
        lastSent = process.hrtime.bigint();
      })(),
      { objectMode: false },
    );
    const res = await client.request({
      method: 'POST',
      path: `/api/v1/campaigns/${id}/contacts`,
      headers: {
        authorization: `Bearer ${apiKey}`,
        'content-type': 'text/csv',
        'content-length': String(csv.length),
      },
      body,
    });
    const text = await res.body.text();
    const done = process.hrtime.bigint();
    if (lastSent === 0n) lastSent = done;
    const ok = res.statusCode === 200;
    return {
      status: res.statusCode,
      report: ok ? (JSON.parse(text) as { data: ImportReport }).data : null,
      error: ok ? null : text.slice(0, 500),
      bytes: csv.length,
      ms: Number(done - firstSent) / 1e6,
      sendMs: Number(lastSent - firstSent) / 1e6,
      tailMs: Number(done - lastSent) / 1e6,
    };
  } finally {
    await client.close();
  }
}
