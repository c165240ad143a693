import fastify, { FastifyInstance, FastifyRequest } from 'fastify';
import { PinoLogger } from 'nestjs-pino';
import { storage } from 'nestjs-pino/storage';
import { Options, pinoHttp } from 'pino-http';
import { get as httpGet } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { AppConfig } from '../config/app-config';
import { loggerParams, registerRequestLogging } from './logging';

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
  const config = { logLevel } as AppConfig;
  // As nestjs-pino's LoggerModule does when Nest initialises it.
  Object.assign(PinoLogger, { root: pinoHttp(loggerParams(config).pinoHttp as Options, sink).logger });
  const app: FastifyInstance = fastify({ genReqId: (req) => String(req.headers['x-request-id']) });
  registerRequestLogging(app);
  const handler = async (request: FastifyRequest) => {
    if (request.headers['x-log'])
      storage.getStore()?.logger.warn({ key: { api_key: 'sb_x' } }, 'while handling');
    return 'ok';
  };
  app.post(INGEST, handler);
  app.get('/api/v1/calls', handler);
  app.get('/slow', () => new Promise((resolve) => setTimeout(() => resolve('late'), 300)));
  await app.ready();
  return { app, lines };
}

describe('request logging', () => {
  afterEach(() => jest.restoreAllMocks());

  it.each([
    ['POST', '/functions/v1/webhook-ingest/a1/s3cret', '/functions/v1/webhook-ingest/a1/[redacted]'],
    ['GET', '/api/v1/calls?x=1', '/api/v1/calls?x=1'],
  ])(
    '%s %s: logs written while handling it and its completion carry the request id',
    async (method, url, logged) => {
      const { app, lines } = await appLogging('info');
      await app.inject({ method: method as 'GET', url, headers: { 'x-request-id': 'r-1', 'x-log': '1' } });
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
    const { app, lines } = await appLogging('error');
    const child = jest.spyOn(PinoLogger.root, 'child');
    await app.inject({ method: method as 'GET', url });
    expect(child).not.toHaveBeenCalled();
    expect(lines).toEqual([]);
  });

  it('logs a request the client abandons before the answer', async () => {
    const { app, lines } = await appLogging('info');
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const { port } = app.server.address() as AddressInfo;
      await new Promise<void>((resolve) => {
        const req = httpGet({ host: '127.0.0.1', port, path: '/slow', headers: { 'x-request-id': 'r-2' } });
        req.on('error', () => resolve());
        setTimeout(() => req.destroy(), 50);
      });
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(lines).toEqual([
        expect.objectContaining({
          level: 40,
          req: { id: 'r-2', method: 'GET', url: '/slow' },
          responseTime: expect.any(Number),
          msg: 'request aborted',
        }),
      ]);
    } finally {
      await app.close();
    }
  });
});
