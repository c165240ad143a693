import { RequestMethod } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Params, PinoLogger } from 'nestjs-pino';
import { Store, storage } from 'nestjs-pino/storage';
import type { Logger } from 'pino';
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

/**
 * Routes on the hot path (Ultravox ingest, CONTRACT §5.2): pino-http's logger per request (a child
 * logger with the request serialized and redacted, even when nothing is logged) was ≈ 6 % of their CPU.
 * They get the same log lines from `registerLeanRequestLogging`, with the request's logger made on first use.
 */
const LEAN_POST_ROUTES = ['/functions/v1/webhook-ingest/:agencyId/:webhookSecret'];

const levelFor = (statusCode: number, err?: unknown) => (err || statusCode >= 500 ? 'error' : 'info');

/** pino JSON logs with a request id (taken from X-Request-Id when the caller sends one). */
export function loggerParams(config: AppConfig): Params {
  return {
    pinoHttp: {
      level: config.logLevel,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      // Fastify assigns the request id (app.setup.ts); this only covers a request that bypassed it.
      genReqId: (req: IncomingMessage) => (req as IncomingMessage & { id?: string }).id ?? randomUUID(),
      customLogLevel: (_req, res, err) => levelFor(res.statusCode, err),
      // Ultravox's ingest URL carries a secret path segment: log the route pattern, not the URL.
      serializers: {
        req: (req: {
          id: string;
          method: string;
          url: string;
          raw?: { routeOptions?: { url?: string } };
        }) => ({
          id: req.id,
          method: req.method,
          url: req.url.replace(/(\/webhook-ingest\/[^/]+\/)[^/?]+/, '$1[redacted]'),
        }),
      },
    },
    exclude: LEAN_POST_ROUTES.map((path) => ({ method: RequestMethod.POST, path })),
  };
}

/** nestjs-pino's request store, whose logger (bound to the request) is made only when something logs. */
class LazyRequestStore implements Store {
  private made?: Logger;
  responseLogger?: Logger;

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
 * For LEAN_POST_ROUTES, what pino-http and nestjs-pino do for the other routes: logs written while
 * handling the request carry it (request id, method, redacted URL), and one line when the response is
 * sent. Route hooks, so other routes pay nothing for them.
 */
export function registerLeanRequestLogging(fastify: FastifyInstance): void {
  const stores = new WeakMap<FastifyRequest, LazyRequestStore>();
  const bindStore = (request: FastifyRequest, _reply: FastifyReply, done: () => void) => {
    const store = new LazyRequestStore(request);
    stores.set(request, store);
    storage.run(store, done);
  };
  const logResponse = (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const store = stores.get(request);
    const level = levelFor(reply.statusCode);
    if (store && PinoLogger.root.isLevelEnabled(level)) {
      store.logger[level](
        { res: reply.raw, responseTime: Math.round(reply.elapsedTime) },
        level === 'error' ? 'request errored' : 'request completed',
      );
    }
    done();
  };
  fastify.addHook('onRoute', (route) => {
    if (route.method !== 'POST' || !LEAN_POST_ROUTES.includes(route.url)) return;
    route.onRequest = [route.onRequest ?? [], bindStore].flat();
    route.onResponse = [route.onResponse ?? [], logResponse].flat();
  });
}
