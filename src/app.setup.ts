import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Logger } from 'nestjs-pino';
import { BULL_BOARD_ROUTE } from './app.module';
import { API_KEY_SCHEME, JWT_SCHEME } from './auth/auth.decorator';
import { AllowedMethods } from './common/errors/allowed-methods';
import { HttpExceptionFilter } from './common/errors/http-exception.filter';
import { basicAuthMatches } from './common/http/basic-auth';
import { APP_CONFIG, AppConfig } from './config/app-config';

/** Options for NestFactory.create: raw bodies are kept for signature checks (Ultravox ingest). */
export const APP_OPTIONS = { rawBody: true, bufferLogs: true } as const;

export function createFastifyAdapter(): FastifyAdapter {
  // Behind a load balancer (CONTRACT §1): honour X-Forwarded-* for client addresses in logs.
  return new FastifyAdapter({ trustProxy: true, bodyLimit: 1_048_576 });
}

/**
 * Everything the HTTP pipeline needs beyond the module graph. Called by main.ts and by the e2e tests,
 * so tests exercise exactly the production pipeline. Call before app.init()/listen().
 */
export function configureApp(app: NestFastifyApplication): void {
  const config = app.get<AppConfig>(APP_CONFIG);
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  const fastify = app.getHttpAdapter().getInstance();

  const allowedMethods = app.get(AllowedMethods);
  fastify.addHook('onRoute', (route) => allowedMethods.add(route.method, route.url));
  // Fastify's own failures (malformed JSON, wrong content type, body too large) get the same error shape.
  const filter = new HttpExceptionFilter(allowedMethods);
  fastify.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) =>
    filter.send(error, request, reply),
  );

  if (config.bullBoard) {
    const { username, password } = config.bullBoard;
    fastify.addHook('onRequest', async (request, reply) => {
      if (!request.url.startsWith(BULL_BOARD_ROUTE)) return;
      if (basicAuthMatches(request.headers.authorization, username, password)) return;
      await reply.status(401).header('WWW-Authenticate', 'Basic realm="Switchboard queues"').send({
        success: false,
        error: { code: 'unauthorized', message: 'Bull Board needs the operator username and password' },
      });
    });
  }

  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, openApiConfig()), {
    jsonDocumentUrl: 'docs-json',
    swaggerOptions: { persistAuthorization: true },
  });
}

function openApiConfig() {
  return new DocumentBuilder()
    .setTitle('Switchboard API')
    .setDescription(
      'Store your Ultravox key, issue API keys, trigger outbound AI calls and receive signed call events. ' +
        'Errors always have the shape `{"success": false, "error": {"code", "message", "hint"?, "details"?}}`.',
    )
    .setVersion(process.env.npm_package_version ?? '0.1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Dashboard user token' }, JWT_SCHEME)
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', description: 'Agency API key (`sb_live_…`) from POST /api/v1/integrations/api/key' },
      API_KEY_SCHEME,
    )
    .build();
}
