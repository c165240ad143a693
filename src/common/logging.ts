import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Params } from 'nestjs-pino';
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

/** pino JSON logs with a request id (taken from X-Request-Id when the caller sends one). */
export function loggerParams(config: AppConfig): Params {
  return {
    pinoHttp: {
      level: config.logLevel,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      // Fastify assigns the request id (app.setup.ts); this only covers a request that bypassed it.
      genReqId: (req: IncomingMessage) => (req as IncomingMessage & { id?: string }).id ?? randomUUID(),
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : 'info'),
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
  };
}
