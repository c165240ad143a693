import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { APP_OPTIONS, configureApp, createFastifyAdapter } from './app.setup';
import { buildAppConfig } from './config/app-config';
import { prepareDatabase } from './database/migrate';

async function bootstrap(): Promise<void> {
  const config = buildAppConfig(process.env);
  await prepareDatabase(config.databaseUrl, config.runMigrations);
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config),
    createFastifyAdapter(),
    APP_OPTIONS,
  );
  configureApp(app);
  // A worker-only process listens only for the operator surface (/metrics, /health) on METRICS_PORT.
  const worker = config.role === 'worker';
  await app.listen(worker ? config.metrics.port : config.port, config.host);
  const url = await app.getUrl();
  app
    .get(Logger)
    .log(
      worker
        ? { msg: 'Switchboard worker started', role: config.role, metrics_url: url }
        : { msg: 'Switchboard listening', role: config.role, url },
    );
}

bootstrap().catch((err: Error) => {
  process.stderr.write(`switchboard: ${err.message}\n`);
  process.exit(1);
});
