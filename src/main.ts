import 'reflect-metadata';
import { setFlagsFromString } from 'node:v8';
import { NestFactory } from '@nestjs/core';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { APP_OPTIONS, configureApp, createFastifyAdapter } from './app.setup';
import { buildAppConfig } from './config/app-config';
import { prepareDatabase } from './database/migrate';

/**
 * V8's default lets the old generation grow to about four times what survived the last full collection
 * before it collects again; a server's short-lived request objects that outlive two scavenges pile up
 * there as garbage. Twice is enough: under bench:trigger the API's peak RSS falls from 290–303 MB to
 * about 200 MB for 0–3 % more CPU (docs/benchmarks.md, "Trigger call"). The flag is read at every full
 * collection, so setting it at start works; one given on the command line wins.
 */
const HEAP_GROWING_PERCENT = 100;

function limitHeapGrowth(): void {
  if (process.execArgv.some((arg) => arg.startsWith('--heap-growing-percent'))) return;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}

async function bootstrap(): Promise<void> {
  limitHeapGrowth();
  const config = buildAppConfig(process.env);
  await prepareDatabase(config.databaseUrl, config.runMigrations);
  if (config.role === 'worker') {
    const worker = await NestFactory.createApplicationContext(AppModule.forRoot(config), {
      bufferLogs: true,
    });
    worker.useLogger(worker.get(Logger));
    worker.enableShutdownHooks();
    await worker.init();
    worker.get(Logger).log({ msg: 'Switchboard worker started', role: config.role });
    return;
  }
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config),
    createFastifyAdapter(),
    APP_OPTIONS,
  );
  configureApp(app);
  await app.listen(config.port, config.host);
  app.get(Logger).log({ msg: 'Switchboard listening', role: config.role, url: await app.getUrl() });
}

bootstrap().catch((err: Error) => {
  process.stderr.write(`switchboard: ${err.message}\n`);
  process.exit(1);
});
