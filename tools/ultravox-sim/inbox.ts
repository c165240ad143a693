import type { FastifyInstance } from 'fastify';

export interface InboxEntry {
  at: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** The raw body as received. */
  body: string;
}

const MAX_ENTRIES = 1000;

/**
 * A webhook receiver for the demo: `POST /_sim/inbox/<anything>` is kept and answered 204, and
 * `GET /_sim/inbox` lists what arrived (newest last). Not part of Ultravox's API.
 */
export function registerInbox(app: FastifyInstance): InboxEntry[] {
  const entries: InboxEntry[] = [];
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));
    scope.post('/_sim/inbox/*', async (request, reply) => {
      entries.push({
        at: new Date().toISOString(),
        path: request.url,
        headers: request.headers,
        body: String(request.body ?? ''),
      });
      if (entries.length > MAX_ENTRIES) entries.shift();
      return reply.code(204).send();
    });
  });
  app.get('/_sim/inbox', async () => ({ entries }));
  return entries;
}
