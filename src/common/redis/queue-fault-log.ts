import { WorkerHost } from '@nestjs/bullmq';
import { Injectable, Logger, Module, OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import { DiscoveryModule, DiscoveryService } from '@nestjs/core';
import { Queue, Worker } from 'bullmq';
import { FaultLog } from '../fault-log';

/**
 * Listens to 'error' on every BullMQ Queue and Worker of the app. BullMQ emits its connection errors
 * and its job-bookkeeping errors there (e.g. "Missing key for job" after Redis lost its data); with no
 * listener, it prints them with console.error, stack and all, outside the JSON log. Connection errors
 * are logged once per outage and the recovery once; the others every time (FaultLog).
 */
@Injectable()
export class QueueFaultLog implements OnModuleInit, OnApplicationBootstrap {
  private readonly log = new FaultLog(new Logger('BullMQ'));
  private readonly watched = new WeakSet<object>();

  constructor(private readonly discovery: DiscoveryService) {}

  /** Queues exist once every provider is built: listen before anything is enqueued. */
  onModuleInit(): void {
    for (const instance of this.instances()) {
      if (instance instanceof Queue) this.watchQueue(instance);
    }
  }

  /** Workers are created by @nestjs/bullmq during module init. */
  onApplicationBootstrap(): void {
    for (const instance of this.instances()) {
      if (instance instanceof WorkerHost) {
        this.watched.add(instance);
        this.watchWorker(instance.worker);
      }
    }
  }

  private *instances(): Iterable<unknown> {
    for (const wrapper of this.discovery.getProviders()) {
      const instance: unknown = wrapper.instance;
      if (instance && typeof instance === 'object' && !this.watched.has(instance)) yield instance;
    }
  }

  private watchQueue(queue: Queue): void {
    this.watched.add(queue);
    const source = `queue ${queue.name}`;
    queue.on('error', (err: Error) => this.log.failed(source, err));
    void queue.client.then(
      (client) => client.on('ready', () => this.log.recovered(source)),
      () => undefined,
    );
  }

  private watchWorker(worker: Worker): void {
    const source = `worker ${worker.name}`;
    worker.on('error', (err: Error) => this.log.failed(source, err));
    worker.on('ready', () => this.log.recovered(source));
  }
}

@Module({ imports: [DiscoveryModule], providers: [QueueFaultLog] })
export class QueueFaultLogModule {}
