import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { FaultLog } from '../common/fault-log';
import { QUEUES } from '../common/queues';
import { ClusterState, Counted, Metrics, QUEUE_STATES } from './metrics';
import { MetricsRepository } from './metrics.repository';

/** Postgres counts are read at most this often per process, however often it is scraped. */
const POSTGRES_CACHE_MS = 10_000;

/**
 * What the queue, call and endpoint gauges show, read when /metrics is scraped: BullMQ's job counts
 * from Redis, grouped counts from Postgres (cached). A source that cannot be read leaves its gauge
 * empty for that scrape (and logs once per outage) instead of failing the whole scrape.
 */
@Injectable()
export class ClusterGauges implements ClusterState, OnModuleInit {
  private readonly log = new FaultLog(new Logger('Metrics'));
  private readonly queues: Queue[];
  private readonly cached = new Map<string, { at: number; rows: Promise<unknown[]> }>();

  constructor(
    private readonly metrics: Metrics,
    private readonly repository: MetricsRepository,
    @InjectQueue(QUEUES.webhookDelivery) delivery: Queue,
    @InjectQueue(QUEUES.callDial) dial: Queue,
    @InjectQueue(QUEUES.callEvents) events: Queue,
  ) {
    this.queues = [delivery, dial, events];
  }

  onModuleInit(): void {
    this.metrics.readClusterFrom(this);
  }

  queueDepths(): Promise<Counted<'queue' | 'state'>[]> {
    return this.guarded('queue depths', async () => {
      const perQueue = await Promise.all(this.queues.map((queue) => queue.getJobCounts(...QUEUE_STATES)));
      return this.queues.flatMap((queue, i) =>
        QUEUE_STATES.map((state) => ({ queue: queue.name, state, count: perQueue[i][state] ?? 0 })),
      );
    });
  }

  callsByStatus(): Promise<Counted<'status'>[]> {
    return this.cachedRows('calls by status', () => this.repository.callsByStatus());
  }

  endpointsByState(): Promise<Counted<'state'>[]> {
    return this.cachedRows('endpoints by state', () => this.repository.endpointsByState());
  }

  private cachedRows<Row>(source: string, read: () => Promise<Row[]>): Promise<Row[]> {
    const hit = this.cached.get(source);
    if (hit && Date.now() - hit.at < POSTGRES_CACHE_MS) return hit.rows as Promise<Row[]>;
    const rows = this.guarded(source, read);
    this.cached.set(source, { at: Date.now(), rows });
    return rows;
  }

  private async guarded<Row>(source: string, read: () => Promise<Row[]>): Promise<Row[]> {
    try {
      const rows = await read();
      this.log.recovered(`metrics: ${source}`);
      return rows;
    } catch (err) {
      this.cached.delete(source);
      this.log.failed(`metrics: ${source}`, err);
      return [];
    }
  }
}
