import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { writeFileSync } from 'node:fs';
import { AppModule } from './app.module';
import { createFastifyAdapter, createOpenApiDocument } from './app.setup';
import { buildAppConfig } from './config/app-config';

/** The settings the committed document is made with: only PUBLIC_BASE_URL shows in it (`servers`). */
export const OPENAPI_ENV = {
  PUBLIC_BASE_URL: 'http://localhost:3000',
  JWT_SECRET: 'openapi-document',
  ENCRYPTION_KEY: Buffer.alloc(32).toString('base64'),
};

/**
 * `npm run openapi`: writes this build's OpenAPI document to openapi.json (or the path given), the
 * same document /docs-json serves. The module graph is built in preview mode (nothing instantiated,
 * so no Postgres or Redis needed); test/openapi-document.e2e-spec.ts fails when the two differ.
 */
async function main(): Promise<void> {
  const target = process.argv[2] ?? 'openapi.json';
  const config = buildAppConfig(OPENAPI_ENV);
  const app = await NestFactory.create(AppModule.forRoot(config), createFastifyAdapter(), {
    preview: true,
    logger: false,
  });
  const document = createOpenApiDocument(app, config.publicBaseUrl);
  writeFileSync(target, `${JSON.stringify(document, null, 2)}\n`);
  await app.close();
  process.stderr.write(`openapi: wrote ${target} (${Object.keys(document.paths).length} paths)\n`);
}

if (require.main === module) {
  main().catch((err: Error) => {
    process.stderr.write(`openapi: ${err.message}\n`);
    process.exit(1);
  });
}
