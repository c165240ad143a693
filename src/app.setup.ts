import type { RawServerDefault } from 'fastify';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { BULL_BOARD_ROUTE } from './app.module';
import { API_KEY_SCHEME, JWT_SCHEME, METRICS_SCHEME } from './auth/auth.decorator';
import { AllowedMethods } from './common/errors/allowed-methods';
import { clientErrorHandler, frameworkErrors, MAX_PARAM_LENGTH } from './common/errors/framework-errors';
import { validationFailed } from './common/errors/validation';
import { basicAuthMatches } from './common/http/basic-auth';
import { drainOnClose } from './common/http/drain-on-close';
import { ErrorDto } from './common/errors/error-body.dto';
import { foreignErrorBody } from './common/errors/foreign-error-body';
import { findUnstorableInput } from './common/http/storable-input';
import { appLogger, registerRequestLogging } from './common/logging';
import { completeDocument } from './common/openapi/complete-document';
import { APP_VERSION } from './common/version';
import { APP_CONFIG, AppConfig } from './config/app-config';
import { registerHttpMetrics } from './metrics/http-metrics';
import { Metrics } from './metrics/metrics';

/** Options for NestFactory.create: raw bodies are kept for signature checks (Ultravox ingest). */
export const APP_OPTIONS = { rawBody: true, bufferLogs: true } as const;

export function createFastifyAdapter(): FastifyAdapter {
  return new FastifyAdapter({
    // Behind a load balancer (CONTRACT §1): honour X-Forwarded-* for client addresses in logs.
    trustProxy: true,
    bodyLimit: 1_048_576,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Fastify's own early answers (bad URL encoding, over-long path, oversized headers) in the contract's shape.
    frameworkErrors,
    clientErrorHandler,
    // A caller's X-Request-Id is kept (when sane) so its logs and ours line up; otherwise a fresh uuid.
    requestIdHeader: false,
    genReqId: (req: IncomingMessage) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
    },
  });
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
  drainOnClose(fastify);

  fastify.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });
  registerHttpMetrics(fastify, app.get(Metrics));

  // JSON routes take JSON only: registering the JSON parser here (raw body kept for signature checks)
  // keeps Nest from adding its form-urlencoded parser, so `name=x` answers 415 instead of creating things.
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  app.useBodyParser<RawServerDefault>(
    'application/json',
    { bodyLimit: fastify.initialConfig.bodyLimit },
    (req, body, done) => parseJson(req, body.toString('utf8'), done),
  );

  // One rule for every route, before any validation recurses: no string Postgres cannot store, no
  // JSON nested deeper than MAX_JSON_DEPTH, in the path, the query or a JSON body (a CSV body is a
  // stream, checked line by line by its reader).
  fastify.addHook('preValidation', async (request) => {
    const problem =
      findUnstorableInput(request.params) ??
      findUnstorableInput(request.query) ??
      (request.body instanceof Readable ? null : findUnstorableInput(request.body));
    if (problem) throw validationFailed([problem]);
  });

  const allowedMethods = app.get(AllowedMethods);
  fastify.addHook('onRoute', (route) => allowedMethods.add(route.method, route.url));

  if (config.bullBoard) {
    const { username, password } = config.bullBoard;
    fastify.addHook('onRequest', async (request, reply) => {
      if (!request.url.startsWith(BULL_BOARD_ROUTE)) return;
      if (basicAuthMatches(request.headers.authorization, username, password)) return;
      await reply
        .status(401)
        .header('WWW-Authenticate', 'Basic realm="Switchboard queues"')
        .send({
          success: false,
          error: { code: 'unauthorized', message: 'Bull Board needs the operator username and password' },
        });
    });
    // Bull Board's own errors (an unknown queue or job, an action that failed) in the contract's shape.
    const logger = appLogger(app);
    fastify.addHook('onSend', async (request, reply, payload) => {
      if (
        !request.url.startsWith(BULL_BOARD_ROUTE) ||
        reply.statusCode < 400 ||
        typeof payload !== 'string'
      ) {
        return payload;
      }
      const body = foreignErrorBody(reply.statusCode, payload);
      if (!body) return payload;
      if (body.error.error_id) {
        logger.error({
          msg: 'Bull Board error',
          error_id: body.error.error_id,
          answer: payload.slice(0, 1000),
        });
      }
      return JSON.stringify(body);
    });
  }

  registerRequestLogging(fastify, appLogger(app));

  SwaggerModule.setup('docs', app, () => createOpenApiDocument(app, config.publicBaseUrl), {
    jsonDocumentUrl: 'docs-json',
    swaggerOptions: { persistAuthorization: true },
  });
}

/**
 * The OpenAPI document of this build: what the decorators and the Swagger plugin describe, completed
 * with every operation's error codes and strict-reader-safe schemas. `npm run openapi` writes it to
 * openapi.json; an e2e spec keeps the two equal.
 */
export function createOpenApiDocument(app: INestApplication, publicBaseUrl: string): OpenAPIObject {
  return completeDocument(
    SwaggerModule.createDocument(app, openApiConfig(publicBaseUrl), { extraModels: [ErrorDto] }),
  );
}

function openApiConfig(publicBaseUrl: string): Omit<OpenAPIObject, 'paths'> {
  const config = new DocumentBuilder()
    .setTitle('Switchboard API')
    .setDescription(
      'Store your Ultravox key, issue API keys, trigger outbound AI calls and receive signed call events. ' +
        'Errors always have the shape `{"success": false, "error": {"code", "message", "hint"?, "details"?}}`; ' +
        'each operation lists the codes it can answer, per status.',
    )
    .setVersion(APP_VERSION)
    .addServer(publicBaseUrl)
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Dashboard user token' },
      JWT_SCHEME,
    )
    .addSecurity(API_KEY_SCHEME, {
      type: 'http',
      scheme: 'bearer',
      description: 'Agency API key (`sb_live_…`) from POST /api/v1/integrations/api/key',
    })
    .addSecurity(METRICS_SCHEME, {
      type: 'http',
      scheme: 'bearer',
      description: 'METRICS_TOKEN, when the operator set one (GET /metrics)',
    })
    .build();
  // DocumentBuilder.setLicense always writes a url; this API has no public licence page.
  config.info.license = { name: 'UNLICENSED' };
  return config;
}
