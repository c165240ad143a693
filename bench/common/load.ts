/**
 * A closed-loop HTTP load generator on an undici Pool: `connections` keep-alive connections, each with one
 * request in flight at a time, for a fixed duration or count. Every request is built on the fly by
 * `build(seq)`, so bodies, signatures and keys are distinct; latency is from just before the request is
 * handed to undici to the end of the response body (no client-side queueing: one request per connection).
 */
import { Pool } from 'undici';
import { percentile } from './metrics';

export interface LoadRequest {
  method?: 'POST' | 'GET';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface LoadOptions {
  origin: string;
  connections: number;
  /** Stop issuing new requests after this long… */
  durationMs?: number;
  /** …or after this many requests (whichever comes first). */
  count?: number;
  /** First sequence number (phases of one run use disjoint ranges, so every request is distinct). */
  firstSeq: number;
  build(seq: number): LoadRequest;
  /** The status a successful request answers; anything else is an error. */
  okStatus: number;
  /** Called with each successful response body (e.g. to collect call ids); omitted = body discarded. */
  onBody?(seq: number, body: string): void;
}

export interface LoadResult {
  connections: number;
  requests: number;
  ok: number;
  errors: number;
  /** status code (or "network") → count, for every answer that was not okStatus. */
  errorsByStatus: Record<string, number>;
  firstError: string | null;
  seconds: number;
  /** Successful requests per second (start of the first request to end of the last). */
  perSec: number;
  latencyMs: { mean: number; p50: number; p90: number; p99: number; max: number };
  /** Successful requests finished in each whole second of the run. */
  perSecond: number[];
  nextSeq: number;
}

const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const pool = new Pool(o.origin, { connections: o.connections, pipelining: 1, keepAliveTimeout: 30_000 });
  const latencies: number[] = [];
  const perSecond: number[] = [];
  const errorsByStatus: Record<string, number> = {};
  let firstError: string | null = null;
  let next = o.firstSeq;
  const last = o.count === undefined ? Infinity : o.firstSeq + o.count;
  let stopped = false;
  const start = process.hrtime.bigint();
  const timer = o.durationMs === undefined ? undefined : setTimeout(() => (stopped = true), o.durationMs);
  let endNs = start;

  const fail = (key: string, message: string) => {
    errorsByStatus[key] = (errorsByStatus[key] ?? 0) + 1;
    firstError ??= message;
  };

  const lane = async () => {
    while (!stopped && next < last) {
      const seq = next++;
      const req = o.build(seq);
      const t0 = process.hrtime.bigint();
      try {
        const res = await pool.request({
          method: req.method ?? 'POST',
          path: req.path,
          headers: req.headers,
          body: req.body,
        });
        const text = await res.body.text();
        const t1 = process.hrtime.bigint();
        endNs = t1;
        if (res.statusCode === o.okStatus) {
          latencies.push(Number(t1 - t0) / 1e6);
          const second = Math.floor(Number(t1 - start) / 1e9);
          perSecond[second] = (perSecond[second] ?? 0) + 1;
          o.onBody?.(seq, text);
        } else {
          fail(String(res.statusCode), `${res.statusCode} ${text.slice(0, 300)}`);
        }
      } catch (err) {
        endNs = process.hrtime.bigint();
        fail('network', (err as Error).message);
      }
    }
  };

  await Promise.all(Array.from({ length: o.connections }, lane));
  clearTimeout(timer);
  await pool.close();
  const seconds = Number(endNs - start) / 1e9;
  latencies.sort((a, b) => a - b);
  const errors = Object.values(errorsByStatus).reduce((sum, n) => sum + n, 0);
  return {
    connections: o.connections,
    requests: next - o.firstSeq,
    ok: latencies.length,
    errors,
    errorsByStatus,
    firstError,
    seconds: round(seconds, 2),
    perSec: round(latencies.length / seconds),
    latencyMs: {
      mean: round(latencies.reduce((sum, v) => sum + v, 0) / Math.max(1, latencies.length), 2),
      p50: round(percentile(latencies, 50), 2),
      p90: round(percentile(latencies, 90), 2),
      p99: round(percentile(latencies, 99), 2),
      max: round(latencies[latencies.length - 1] ?? NaN, 2),
    },
    perSecond: Array.from(perSecond, (n) => n ?? 0),
    nextSeq: next,
  };
}
