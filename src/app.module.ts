import { DynamicModule, Module, ModuleMetadata } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { BullModule } from '@nestjs/bullmq';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BullBoardModule } from '@bull-board/nestjs';
import { FastifyAdapter as BullBoardFastifyAdapter } from '@bull-board/fastify';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { LoggerModule } from 'nestjs-pino';
import { AgenciesModule } from './agencies/agencies.module';
import { AgencyDataModule } from './agencies/agency-data.module';
import { AgentsModule } from './agents/agents.module';
import { AuthModule } from './auth/auth.module';
import { CryptoModule } from './common/crypto/crypto.module';
import { DncModule } from './dnc/dnc.module';
import { AllowedMethods } from './common/errors/allowed-methods';
import { HttpExceptionFilter } from './common/errors/http-exception.filter';
import {
  flattenValidationErrors,
  ObjectBodyValidationPipe,
  validationFailed,
} from './common/errors/validation';
import { loggerParams } from './common/logging';
import { QueueFaultLogModule } from './common/redis/queue-fault-log';
import { RedisModule } from './common/redis/redis.module';
import { APP_CONFIG, AppConfig } from './config/app-config';
import { AppConfigModule } from './config/config.module';
import { dataSourceOptions } from './database/data-source-options';
import { TransactionsModule } from './database/transactions';
import { HealthModule } from './health/health.module';
import { IntegrationsModule, IntegrationsWorkerModule } from './integrations/integrations.module';
import { MetricsModule } from './metrics/metrics.module';
import { QUEUES } from './common/queues';
import { WebhooksModule } from './webhooks/webhooks.module';
import { WebhooksWorkerModule } from './webhooks/webhooks-worker.module';
import { CallsModule, CallsWorkerModule } from './calls/calls.module';
import { CampaignsModule, CampaignsWorkerModule } from './campaigns/campaigns.module';
import { RetentionModule } from './retention/retention.module';
import { UsageModule } from './usage/usage.module';

export const BULL_BOARD_ROUTE = '/admin/queues';

const validationPipe = new ObjectBodyValidationPipe({
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  exceptionFactory: (errors) => validationFailed(flattenValidationErrors(errors)),
});

/** What every role needs: config, logs, Postgres, Redis, queues, crypto, metrics. */
const infrastructure = (config: AppConfig): NonNullable<ModuleMetadata['imports']> => [
  AppConfigModule.forRoot(config),
  LoggerModule.forRootAsync({ inject: [APP_CONFIG], useFactory: loggerParams }),
  TypeOrmModule.forRootAsync({
    inject: [APP_CONFIG],
    useFactory: (config: AppConfig) =>
      dataSourceOptions(config.databaseUrl, {
        poolSize: 20,
        // Fail fast while Postgres is unreachable (or the pool is exhausted): 503, not a hanging request.
        // …and no statement holds a connection (and the request or job behind it) for long: migrations,
        // which may rightly run longer, have a data source of their own (database/migrate.ts).
        extra: {
          connectionTimeoutMillis: config.timeouts.databaseConnectMs,
          statement_timeout: config.timeouts.databaseStatementMs,
        },
      }),
  }),
  TransactionsModule,
  RedisModule,
  QueueFaultLogModule,
  BullModule.forRootAsync({
    inject: [APP_CONFIG],
    useFactory: (config: AppConfig) => ({
      // Fail fast: while Redis is unreachable a queue add fails at once (the callers leave the job to
      // the sweepers) instead of waiting in ioredis's offline queue; workers reconnect by themselves.
      connection: {
        url: config.redisUrl,
        enableOfflineQueue: false,
        connectTimeout: config.timeouts.redisMs,
      },
      prefix: `${config.redisPrefix}:bull`,
    }),
  }),
  CryptoModule,
  AgencyDataModule,
  MetricsModule,
];

/** The HTTP API: controllers, guard, error shape, operator surfaces. */
function apiModules(config: AppConfig): NonNullable<ModuleMetadata['imports']> {
  const modules: NonNullable<ModuleMetadata['imports']> = [
    AuthModule.forRoot([AgenciesModule, IntegrationsModule]),
    HealthModule,
    AgenciesModule,
    IntegrationsModule,
    AgentsModule,
    DncModule,
    WebhooksModule,
    CallsModule,
    CampaignsModule,
    UsageModule,
  ];
  if (config.bullBoard) {
    modules.push(
      BullBoardModule.forRoot({ route: BULL_BOARD_ROUTE, adapter: BullBoardFastifyAdapter }),
      ...Object.values(QUEUES).map((name) => BullBoardModule.forFeature({ name, adapter: BullMQAdapter })),
    );
  }
  return modules;
}

/** The queue processors and the sweepers that keep Redis in step with Postgres. */
const workerModules = (): NonNullable<ModuleMetadata['imports']> => [
  WebhooksWorkerModule,
  CallsWorkerModule,
  CampaignsWorkerModule,
  IntegrationsWorkerModule,
  RetentionModule,
];

@Module({})
export class AppModule {
  /** APP_ROLE: `api` serves HTTP, `worker` runs the queue processors, `all` both (CONTRACT §1). */
  static forRoot(config: AppConfig): DynamicModule {
    const api = config.role === 'api' || config.role === 'all';
    const worker = config.role === 'worker' || config.role === 'all';
    return {
      module: AppModule,
      imports: [
        ...infrastructure(config),
        ...(api ? apiModules(config) : []),
        ...(worker ? workerModules() : []),
        // A worker-only process serves /health beside /metrics on METRICS_PORT, to be probed.
        ...(worker && !api ? [HealthModule] : []),
      ],
      providers: [
        AllowedMethods,
        { provide: APP_PIPE, useValue: validationPipe },
        { provide: APP_FILTER, useClass: HttpExceptionFilter },
      ],
      exports: [AllowedMethods],
    };
  }
}
