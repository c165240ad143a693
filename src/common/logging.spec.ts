import { RouteConfig } from '@nestjs/platform-fastify';
import { FASTIFY_ROUTE_CONFIG_METADATA } from '@nestjs/platform-fastify/constants';
import fastify, { FastifyInstance } from 'fastify';
import { get as httpGet } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { createLogger, RedactInLogs, redactInLogsConfig, registerRequestLogging } from './logging';

const INGEST = '/functions/v1/webhook-ingest/:agencyId/:webhookSecret';

/** An app with the request logging of app.setup.ts, whose log lines are collected. */
async function appLogging(logLevel: string) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const logger = createLogger({ logLevel }, sink);
  const app: FastifyInstance = fastify({ genReqId: (req) => String(req.headers['x-request-id']) });
  registerRequestLogging(app, logger);
  const handler = async (request: { headers: Record<string, unknown> }) => {
    await new Promise((resolve) => setImmediate(resolve));
    if (request.headers['x-log']) logger.warn({ key: { api_key: 'sb_x' } }, 'while handling');
    return 'ok';
  };
  app.post(INGEST, { config: redactInLogsConfig('webhookSecret') }, handler);
  app.get('/api/v1/calls', handler);
  app.get('/api/v1/recordings/:callId', { config: redactInLogsConfig('signature') }, handler);
  // Answers only when the test says so; `started` settles once a request is being handled.
  let markStarted!: () => void;
  const slow = {
    started: new Promise<void>((resolve) => (markStarted = resolve)),
    answer: (_body: string) => undefined as void,
  };
  app.get(
    '/slow',
    () =>
      new Promise((resolve) => {
        slow.answer = resolve;
        markStarted();
      }),
  );
  await app.ready();
  return { app, lines, logger, slow };
}

/** Until `check` holds, letting I/O run between looks. */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100_000 && !check(); i++) await new Promise((resolve) => setImmediate(resolve));
  expect(check()).toBe(true);
}

describe('request logging', () => {
  afterEach(() => jest.restoreAllMocks());

  it.each([
    ['POST', '/functions/v1/webhook-ingest/a1/s3cret', '/functions/v1/webhook-ingest/a1/[redacted]'],
    ['GET', '/api/v1/calls?x=1', '/api/v1/calls?x=1'],
    [
      'GET',
      '/api/v1/recordings/c1?expires=17&signature=s3cret&x=1',
      '/api/v1/recordings/c1?expires=17&signature=[redacted]&x=1',
    ],
  ])(
    '%s %s: logs written while handling it and its completion carry the request id',
    async (method, url, logged) => {
      const { app, lines } = await appLogging('info');
      const payload = method === 'POST' ? { event: 'call.started' } : undefined;
      await app.inject({
        method: method as 'GET',
        url,
        payload,
        headers: { 'x-request-id': 'r-1', 'x-log': '1' },
      });
      const req = { id: 'r-1', method, url: logged };
      expect(lines).toEqual([
        expect.objectContaining({ level: 40, req, key: { api_key: '[redacted]' }, msg: 'while handling' }),
        expect.objectContaining({ level: 30, req, res: expect.objectContaining({ statusCode: 200 }) }),
      ]);
      expect(JSON.stringify(lines)).not.toContain('s3cret');
    },
  );

  it.each([
    ['POST', '/functions/v1/webhook-ingest/a1/s3cret'],
    ['GET', '/api/v1/calls'],
  ])('%s %s makes no per-request logger when nothing is logged', async (method, url) => {
    const { app, lines, logger } = await appLogging('error');
    const child = jest.spyOn(logger, 'child');
    await app.inject({ method: method as 'GET', url });
    expect(child).not.toHaveBeenCalled();
    expect(lines).toEqual([]);
  });

  it('logs a request the client abandons before the answer', async () => {
    const { app, lines, slow } = await appLogging('info');
    await app.listen({ port: 0, host: '127.0.0.1' });
    let closed = false;
    try {
      const { port } = app.server.address() as AddressInfo;
      await new Promise<void>((resolve) => {
        const req = httpGet({ host: '127.0.0.1', port, path: '/slow', headers: { 'x-request-id': 'r-2' } });
        req.on('error', () => resolve());
        void slow.started.then(() => req.destroy());
      });
      await until(() => lines.length > 0);
      // The handler answers after all, and the app shuts down: nothing more is logged for it.
      slow.answer('late');
      await app.close();
      closed = true;
      expect(lines).toEqual([
        expect.objectContaining({
          level: 40,
          req: { id: 'r-2', method: 'GET', url: '/slow' },
          responseTime: expect.any(Number),
          msg: 'request aborted',
        }),
      ]);
    } finally {
      if (!closed) await app.close();
    }
  });

  it('RedactInLogs adds to the route config a RouteConfig below it set', () => {
    class Routes {
      @RedactInLogs('webhookSecret')
      @RouteConfig({ other: true })
      receive() {}
    }
    expect(Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, Routes.prototype.receive)).toEqual({
      other: true,
      redactInLogs: ['webhookSecret'],
    });
  });
});
