import type { INestApplication } from '@nestjs/common';
import { FASTIFY_ROUTE_CONFIG_METADATA } from '@nestjs/platform-fastify/constants';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AsyncLocalStorage } from 'node:async_hooks';
import { Params, PARAMS_PROVIDER_TOKEN } from 'nestjs-pino';
import { DestinationStream, Logger, pino } from 'pino';
import type { AppConfig } from '../config/app-config';

/** Never logged, wherever they appear (CONTRACT §4, STYLE "Code"). */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'req.headers["x-ultravox-webhook-signature"]',
  '*.api_key',
  '*.apiKey',
  '*.secret',
  '*.secrets',
  '*.password',
  '*.token',
  'err.config',
];

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Path or query parameters whose values are never logged (RedactInLogs). */
    redactInLogs?: string[];
  }
}

/** The Fastify route config RedactInLogs sets, for a route added to Fastify directly. */
export const redactInLogsConfig = (...params: string[]) => ({ redactInLogs: params });

/**
 * A route whose URL carries a secret (Ultravox's ingest URL, a signed recording link): its request
 * lines show these path or query parameters as `[redacted]`. Merged into the route's Fastify config: place it above a RouteConfig (a
 * RouteConfig above it would replace the whole config).
 */
export const RedactInLogs =
  (...params: string[]): MethodDecorator =>
  (_target, _key, descriptor) => {
    const handler = descriptor.value as object;
    const config: object | undefined = Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, handler);
    Reflect.defineMetadata(
      FASTIFY_ROUTE_CONFIG_METADATA,
      { ...config, ...redactInLogsConfig(...params) },
      handler,
    );
  };

/**
 * The URL as logged: the route's RedactInLogs parameters (path parameters, or query parameters such
 * as a signed link's `signature`) replaced by `[redacted]`.
 */
function urlForLogs(request: FastifyRequest): string {
  const names = request.routeOptions.config?.redactInLogs;
  if (!names?.length) return request.url;
  const [path, ...rest] = request.url.split('?');
  const query = redactQuery(rest.join('?'), names);
  const segments = path.split('/');
  const pattern = (request.routeOptions.url ?? '').split('/');
  // A route whose pattern does not map segment by segment is logged as its pattern, values left out.
  if (pattern.length !== segments.length) return request.routeOptions.url ?? '[redacted]';
  const redacted = segments.map((segment, i) =>
    pattern[i].startsWith(':') && names.includes(pattern[i].slice(1)) ? '[redacted]' : segment,
  );
  return [redacted.join('/'), ...(query === null ? [] : [query])].join('?');
}

function redactQuery(query: string, names: string[]): string | null {
  if (query === '') return null;
  return query
    .split('&')
    .map((pair) => {
      const name = decodeURIComponentSafe(pair.split('=')[0]);
      return names.includes(name) ? `${pair.split('=')[0]}=[redacted]` : pair;
    })
    .join('&');
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/** The request being handled, for the lines logged while handling it (see `mixin` below). */
const handling = new AsyncLocalStorage<FastifyRequest>();

const levelFor = (statusCode: number) => (statusCode >= 500 ? 'error' : 'info');

/**
 * The process's one pino logger: JSON lines, secrets redacted. A line written while a request is
 * handled carries that request (`req`: id, method, url) through pino's `mixin`, which runs only for a
 * line that is written: no logger is made per request (docs/benchmarks.md#request-logger-on-first-use).
 */
export function createLogger(config: Pick<AppConfig, 'logLevel'>, destination?: DestinationStream): Logger {
  return pino(
    {
      level: config.logLevel,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      mixin: () => {
        const request = handling.getStore();
        return request ? { req: request } : {};
      },
      serializers: {
        req: (request: FastifyRequest) => ({
          id: request.id,
          method: request.method,
          url: urlForLogs(request),
        }),
        res: (reply: FastifyReply) => ({ statusCode: reply.statusCode, headers: reply.getHeaders() }),
      },
    },
    destination,
  );
}

/**
 * nestjs-pino as Nest's logger, writing through the logger above (its `pinoHttp.logger` option). Its
 * pino-http middleware is not applied (`forRoutes: []`): it would make a logger per request and
 * run every request through Fastify's middleware layer; registerRequestLogging logs requests instead.
 */
export function loggerParams(config: AppConfig): Params {
  return { pinoHttp: { logger: createLogger(config) }, forRoutes: [] };
}

/** The logger of an app whose LoggerModule was configured with loggerParams. */
export function appLogger(app: INestApplication): Logger {
  const { pinoHttp } = app.get<Params>(PARAMS_PROVIDER_TOKEN);
  return (pinoHttp as { logger: Logger }).logger;
}

/**
 * One line per request, when it ends, through Fastify's hooks: 'request completed' (or 'request
 * errored' at error level for a 5xx) with its status and time, 'request aborted' when the client went
 * away first. Lines logged while the route handles it carry the request. Register after the hooks that
 * may answer before the request is logged.
 */
export function registerRequestLogging(fastify: FastifyInstance, logger: Logger): void {
  const startedAt = new WeakMap<FastifyRequest, number>();
  fastify.addHook('onRequest', (request, _reply, done) => {
    startedAt.set(request, performance.now());
    done();
  });
  // After the body is parsed: parsing runs in the request stream's callbacks, outside any context.
  fastify.addHook('preHandler', (request, _reply, done) => handling.run(request, done));
  fastify.addHook('onResponse', (request, reply, done) => {
    const level = levelFor(reply.statusCode);
    if (logger.isLevelEnabled(level)) {
      logger[level](
        { req: request, res: reply, responseTime: Math.round(reply.elapsedTime) },
        level === 'error' ? 'request errored' : 'request completed',
      );
    }
    done();
  });
  fastify.addHook('onRequestAbort', (request, done) => {
    if (logger.isLevelEnabled('warn')) {
      const responseTime = Math.round(performance.now() - (startedAt.get(request) ?? performance.now()));
      logger.warn({ req: request, responseTime }, 'request aborted');
    }
    done();
  });
}
