import { collectDefaultMetrics, Counter, Gauge, Histogram, Metric, Registry } from 'prom-client';

/**
 * Every Prometheus metric Switchboard exposes, defined here and nowhere else (README "Metrics" lists
 * them). Instrumented code calls one method per event; label values come from bounded sets (a route
 * pattern, never a URL; a status code; a reason from a fixed vocabulary), so series stay few.
 */

const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const LAG_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

/** One series of a gauge read at scrape time: its label values and its count. */
export type Counted<L extends string> = Record<L, string> & { count: number };

/** What the cluster-wide gauges read at scrape time (Redis and Postgres); see ClusterGauges. */
export interface ClusterState {
  queueDepths(): Promise<Counted<'queue' | 'state'>[]>;
  callsByStatus(): Promise<Counted<'status'>[]>;
  endpointsByState(): Promise<Counted<'state'>[]>;
}

/** A delivery attempt's answer, as the delivery HTTP client reports it. */
export interface DeliveryAnswer {
  ok: boolean;
  statusCode: number | null;
  durationMs: number;
}

/** An Ultravox request's result: its HTTP status, or how it failed without one. */
export type UltravoxAnswer = number | 'timeout' | 'unreachable';

/** Anything outside the vocabulary (a new reason nobody mapped) counts as `other`, never as a new series. */
const REASON = /^[a-z][a-z0-9_]{0,47}$/;
const reasonLabel = (reason: string | null | undefined): string =>
  reason == null ? 'none' : REASON.test(reason) ? reason : 'other';

const UNMATCHED_ROUTE = 'unmatched';

export class Metrics {
  /** What GET /metrics serves. */
  readonly registry = new Registry();

  private readonly http = new Histogram({
    name: 'switchboard_http_request_duration_seconds',
    help: 'HTTP requests answered, by method, route pattern and status code, with their latency',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: SECONDS_BUCKETS,
    registers: [],
  });

  private readonly deliveryAttempts = new Counter({
    name: 'switchboard_webhook_delivery_attempts_total',
    help: 'Webhook delivery attempts, by outcome (succeeded, receiver_error: a non-2xx answer, no_answer)',
    labelNames: ['outcome'] as const,
    registers: [],
  });

  private readonly deliveryDuration = new Histogram({
    name: 'switchboard_webhook_delivery_attempt_duration_seconds',
    help: 'How long a webhook delivery attempt took to be answered (or to give up), by outcome',
    labelNames: ['outcome'] as const,
    buckets: SECONDS_BUCKETS,
    registers: [],
  });

  private readonly ultravox = new Histogram({
    name: 'switchboard_ultravox_request_duration_seconds',
    help: 'Requests to the Ultravox API, by operation and status (HTTP code, timeout or unreachable)',
    labelNames: ['operation', 'status'] as const,
    buckets: SECONDS_BUCKETS,
    registers: [],
  });

  private readonly callsEnded = new Counter({
    name: 'switchboard_calls_ended_total',
    help: 'Calls that reached a terminal status, by status and reason (failure_reason, or why canceled)',
    labelNames: ['status', 'reason'] as const,
    registers: [],
  });

  private readonly ingestLag = new Histogram({
    name: 'switchboard_ultravox_event_lag_seconds',
    help: 'From an Ultravox webhook being stored (ingest) to its processing being finished',
    buckets: LAG_BUCKETS,
    registers: [],
  });

  private cluster?: ClusterState;

  private readonly queueDepth = this.scrapedGauge(
    'switchboard_queue_jobs',
    'Jobs in each BullMQ queue, by state (read from Redis at scrape time)',
    ['queue', 'state'],
    (cluster) => cluster.queueDepths(),
  );

  private readonly calls = this.scrapedGauge(
    'switchboard_calls',
    'Calls stored, by status (read from Postgres at scrape time, cached for a few seconds)',
    ['status'],
    (cluster) => cluster.callsByStatus(),
  );

  private readonly endpoints = this.scrapedGauge(
    'switchboard_webhook_endpoints',
    'Webhook endpoints by health state: healthy, failing (deliveries failing, paused), disabled',
    ['state'],
    (cluster) => cluster.endpointsByState(),
  );

  /** `enabled` false (METRICS_ENABLED=false): nothing is registered, counted or timed. */
  constructor(readonly enabled: boolean) {
    if (!enabled) return;
    const all: Metric<string>[] = [
      this.http,
      this.deliveryAttempts,
      this.deliveryDuration,
      this.ultravox,
      this.callsEnded,
      this.ingestLag,
      this.queueDepth,
      this.calls,
      this.endpoints,
    ];
    for (const metric of all) this.registry.registerMetric(metric);
    // Process metrics: CPU, memory, heap, event-loop lag, GC, handles (prom-client's standard names).
    collectDefaultMetrics({ register: this.registry });
  }

  /** Where the queue, call and endpoint gauges read from; set once by ClusterGauges. */
  readClusterFrom(cluster: ClusterState): void {
    this.cluster = cluster;
  }

  /** `route` is the matched route pattern (`/api/v1/calls/:id`), undefined when no route matched. */
  httpRequest(method: string, route: string | undefined, status: number, elapsedMs: number): void {
    if (!this.enabled) return;
    this.http.observe({ method, route: route ?? UNMATCHED_ROUTE, status }, elapsedMs / 1000);
  }

  deliveryAttempt(answer: DeliveryAnswer): void {
    if (!this.enabled) return;
    const outcome = answer.ok ? 'succeeded' : answer.statusCode !== null ? 'receiver_error' : 'no_answer';
    this.deliveryAttempts.inc({ outcome });
    this.deliveryDuration.observe({ outcome }, answer.durationMs / 1000);
  }

  ultravoxRequest(operation: string, answer: UltravoxAnswer, elapsedMs: number): void {
    if (!this.enabled) return;
    this.ultravox.observe({ operation, status: String(answer) }, elapsedMs / 1000);
  }

  /** `count` calls reached `status` (completed, failed, canceled) for `reason`. */
  callEnded(status: string, reason: string | null | undefined, count = 1): void {
    if (!this.enabled || count === 0) return;
    this.callsEnded.inc({ status, reason: reasonLabel(reason) }, count);
  }

  /** An Ultravox webhook stored at `storedAt` has been processed. */
  eventProcessed(storedAt: Date): void {
    if (!this.enabled) return;
    this.ingestLag.observe(Math.max(0, Date.now() - storedAt.getTime()) / 1000);
  }

  /** A gauge whose series are, at each scrape, the rows `read` returns (none until ClusterGauges is set). */
  private scrapedGauge<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    read: (cluster: ClusterState) => Promise<Counted<L>[]>,
  ): Gauge<L> {
    const gauge: Gauge<L> = new Gauge({
      name,
      help,
      labelNames,
      registers: [],
      collect: async () => {
        const rows = this.cluster ? await read(this.cluster) : [];
        gauge.reset();
        for (const row of rows) {
          const labels: Partial<Record<L, string>> = {};
          for (const label of labelNames) labels[label] = row[label];
          gauge.set(labels, row.count);
        }
      },
    });
    return gauge;
  }

  /** The Prometheus text exposition of every metric. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }
}

export const PROMETHEUS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;
