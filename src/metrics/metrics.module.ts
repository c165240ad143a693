import { BullModule } from '@nestjs/bullmq';
import { Global, Module } from '@nestjs/common';
import { QUEUES } from '../common/queues';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { ClusterGauges } from './cluster-gauges';
import { Metrics } from './metrics';
import { MetricsController } from './metrics.controller';
import { MetricsRepository } from './metrics.repository';

/**
 * Prometheus metrics for every role (CONTRACT §8): the one Metrics instance the instrumented seams
 * call, the gauges read at scrape time, and GET /metrics (on METRICS_PORT in a worker-only process).
 */
@Global()
@Module({
  imports: [BullModule.registerQueue(...Object.values(QUEUES).map((name) => ({ name })))],
  controllers: [MetricsController],
  providers: [
    {
      provide: Metrics,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new Metrics(config.metrics.enabled),
    },
    MetricsRepository,
    ClusterGauges,
  ],
  exports: [Metrics],
})
export class MetricsModule {}
