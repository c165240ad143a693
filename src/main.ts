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
