import type { FastifyInstance, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Params, PinoLogger } from 'nestjs-pino';
import { Store, storage } from 'nestjs-pino/storage';
import type { Logger } from 'pino';
import type { Options as HttpLoggerOptions } from 'pino-http';
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

const levelFor = (statusCode: number, err?: unknown) => (err || statusCode >= 500 ? 'error' : 'info');

/** pino JSON logs with a request id (taken from X-Request-Id when the caller sends one). */
function httpLoggerOptions(config: AppConfig): HttpLoggerOptions {
  return {
    level: config.logLevel,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    // Fastify assigns the request id (app.setup.ts); this only covers a request that bypassed it.
    genReqId: (req: IncomingMessage) => (req as IncomingMessage & { id?: string }).id ?? randomUUID(),
    customLogLevel: (_req, res, err) => levelFor(res.statusCode, err),
    // Ultravox's ingest URL carries a secret path segment: log the route pattern, not the URL.
    serializers: {
      req: (req: { id: string; method: string; url: string }) => ({
        id: req.id,
        method: req.method,
        url: req.url.replace(/(\/webhook-ingest\/[^/]+\/)[^/?]+/, '$1[redacted]'),
      }),
    },
  };
}

/**
 * nestjs-pino's logger; requests are bound to their logger by `registerRequestLogging` rather than by
 * its Nest middleware: with no Nest middleware, Fastify's middie has nothing to do per request (it
 * copied ip, hostname, query and more onto every request for the middleware to read).
 */
export function loggerParams(config: AppConfig): Params {
  return { pinoHttp: httpLoggerOptions(config), forRoutes: [] };
}

/** nestjs-pino's request store, whose logger (bound to the request) is made only when something logs. */
class LazyRequestStore implements Store {
  private made?: Logger;
  responseLogger?: Logger;
  readonly startedAt = performance.now();

  constructor(private readonly request: FastifyRequest) {}

  get logger(): Logger {
    this.made ??= PinoLogger.root.child({ req: Object.assign(this.request.raw, { id: this.request.id }) });
    return this.made;
  }

  /** PinoLogger.assign() replaces it with a child carrying more fields. */
  set logger(logger: Logger) {
    this.made = logger;
  }
}

/**
 * What nestjs-pino's middleware did, as a Fastify hook: each request is logged when it ends, and logs
 * written while handling it (Nest's Logger) carry it. The request's logger is made on first use:
 * pino-http's logger per request (a child with the request serialized and redacted, even when nothing
 * is logged) is a measurable share of the hot routes' CPU (docs/benchmarks.md#request-logger-on-first-use).
 * A request the client abandons is logged as 'request aborted'. Register after the hooks that may
 * answer before the request is logged.
 */
export function registerRequestLogging(fastify: FastifyInstance): void {
  const stores = new WeakMap<FastifyRequest, LazyRequestStore>();
  fastify.addHook('onRequest', (request, _reply, done) => {
    const store = new LazyRequestStore(request);
    stores.set(request, store);
    storage.run(store, done);
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const store = stores.get(request);
    const level = levelFor(reply.statusCode);
    if (store && PinoLogger.root.isLevelEnabled(level)) {
      store.logger[level](
        { res: reply.raw, responseTime: Math.round(reply.elapsedTime) },
        level === 'error' ? 'request errored' : 'request completed',
      );
    }
    done();
  });
  // The client went away before the answer (pino-http logged these too).
  fastify.addHook('onRequestAbort', (request, done) => {
    const store = stores.get(request);
    if (store && PinoLogger.root.isLevelEnabled('warn')) {
      store.logger.warn({ responseTime: Math.round(performance.now() - store.startedAt) }, 'request aborted');
    }
    done();
  });
}
