import type { FastifyInstance } from 'fastify';

/** How often, once closing, connections that have gone idle are closed. */
const REAP_INTERVAL_MS = 100;

/**
 * Lets `close()` (a SIGTERM, a deploy) end as soon as the requests under way have been answered.
 * Node closes the connections idle when the server closes, but a keep-alive connection whose request
 * was still being handled then stays open after its answer until the client lets go or Fastify's
 * `keepAliveTimeout` (72 s) runs out (fastify/fastify#7044), so shutdown hung for that long whenever
 * Ultravox or a load balancer held such a connection. Once closing, every answer says
 * `Connection: close`, and connections that go idle (a stream answered before the close) are closed.
 */
export function drainOnClose(fastify: FastifyInstance): void {
  let closing = false;
  fastify.addHook('onSend', async (_request, reply, payload) => {
    if (closing) void reply.header('connection', 'close');
    return payload;
  });
  fastify.addHook('preClose', (done) => {
    closing = true;
    const server = fastify.server;
    const reap = setInterval(() => server.closeIdleConnections(), REAP_INTERVAL_MS);
    reap.unref();
    server.once('close', () => clearInterval(reap));
    done();
  });
}
