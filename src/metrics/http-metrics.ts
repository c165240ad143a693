import type { FastifyInstance } from 'fastify';
import { Metrics } from './metrics';

/**
 * Times every answered request by its route pattern (`request.routeOptions.url`, never the URL: ids in
 * paths would make a series per resource). `reply.elapsedTime` is Fastify's own clock for the request.
 */
export function registerHttpMetrics(fastify: FastifyInstance, metrics: Metrics): void {
  if (!metrics.enabled) return;
  fastify.addHook('onResponse', (request, reply, done) => {
    metrics.httpRequest(request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime);
    done();
  });
}
