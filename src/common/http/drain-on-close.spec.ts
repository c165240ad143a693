import Fastify, { FastifyInstance } from 'fastify';
import { PassThrough } from 'node:stream';
import { Agent, request } from 'undici';
import { drainOnClose } from './drain-on-close';

/** Resolves a promise from outside. */
function signal(): { done: Promise<void>; fire: () => void } {
  let fire!: () => void;
  const done = new Promise<void>((resolve) => (fire = resolve));
  return { done, fire };
}

/**
 * A route whose answer waits until the test lets it go, so that a request is under way when close()
 * begins; `closeBegun` fires as Fastify starts closing.
 */
function heldServer(fastify: FastifyInstance) {
  const inHandler = signal();
  const release = signal();
  const closeBegun = signal();
  fastify.get('/held', async () => {
    inHandler.fire();
    await release.done;
    return { ok: true };
  });
  fastify.addHook('preClose', (done) => {
    closeBegun.fire();
    done();
  });
  return {
    inHandler: inHandler.done,
    release: release.fire,
    released: release.done,
    closeBegun: closeBegun.done,
  };
}

describe('drainOnClose', () => {
  // A keep-alive client that would keep its idle connection for a minute: only the server's closing
  // it lets close() end before Fastify's keepAliveTimeout (72 s).
  let agent: Agent;
  beforeEach(() => (agent = new Agent({ keepAliveTimeout: 60_000, keepAliveMaxTimeout: 60_000 })));
  afterEach(() => agent.destroy());

  it('answers a request under way at close with Connection: close, and close() ends once it is answered', async () => {
    const fastify = Fastify();
    drainOnClose(fastify);
    const held = heldServer(fastify);
    const url = await fastify.listen({ port: 0, host: '127.0.0.1' });

    const answer = request(`${url}/held`, { dispatcher: agent });
    await held.inHandler;
    let closed = false;
    const closing = fastify.close().then(() => (closed = true));
    await held.closeBegun;
    held.release();
    const res = await answer;
    expect(res.statusCode).toBe(200);
    expect(res.headers.connection).toBe('close');
    expect(await res.body.json()).toEqual({ ok: true });
    await closing;
    expect(closed).toBe(true);
  });

  it('closes a connection whose streamed answer ends after close began, once it is idle', async () => {
    const fastify = Fastify();
    drainOnClose(fastify);
    const held = heldServer(fastify);
    fastify.get('/stream', async () => {
      const body = new PassThrough();
      body.write('first ');
      void held.released.then(() => body.end('last'));
      return body;
    });
    const url = await fastify.listen({ port: 0, host: '127.0.0.1' });

    // Its headers (keep-alive) are out before close() begins.
    const res = await request(`${url}/stream`, { dispatcher: agent });
    expect(res.headers.connection).toBe('keep-alive');
    const closing = fastify.close();
    await held.closeBegun;
    held.release();
    expect(await res.body.text()).toBe('first last');
    // The idle connection is closed by the server, so close() ends (else it waits out keepAliveTimeout, 72 s).
    await closing;
  });

  it('keeps connections alive while the server is not closing', async () => {
    const fastify = Fastify();
    drainOnClose(fastify);
    fastify.get('/quick', async () => ({ ok: true }));
    const url = await fastify.listen({ port: 0, host: '127.0.0.1' });
    const res = await request(`${url}/quick`, { dispatcher: agent });
    await res.body.dump();
    expect(res.headers.connection).toBe('keep-alive');
    await fastify.close();
  });
});
