/**
 * bench:ingest's reference: a bare Fastify + pg server that stores each webhook with one INSERT into a
 * table shaped like call_events (same columns, foreign key, unique and secondary indexes) and answers 204.
 * No Nest, no signature check, no queue: the floor of "persist the event and return" on this machine.
 * Forked by bench/ingest.ts with an IPC channel; announces {type: 'listening', port}.
 */
import Fastify from 'fastify';
import { Pool } from 'pg';
import { REFERENCE_DDL, REFERENCE_INSERT } from './ingest-reference-schema';

interface Parsed {
  raw: string;
  json: { event?: unknown; call?: { callId?: unknown } } | null;
}

async function main(): Promise<void> {
  const pool = new Pool({
    connectionString: process.env.REF_DATABASE_URL,
    // The same pool size as Switchboard's API (src/app.module.ts).
    max: Number(process.env.REF_POOL_SIZE ?? '20'),
  });
  await pool.query(REFERENCE_DDL);
  const app = Fastify({ logger: false, bodyLimit: 1_048_576 });
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, { raw: body as string, json: JSON.parse(body as string) } satisfies Parsed);
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  app.post<{ Params: { agencyId: string; secret: string }; Body: Parsed }>(
    '/ingest/:agencyId/:secret',
    async (request, reply) => {
      const { raw, json } = request.body;
      const event = json?.event;
      const callId = json?.call?.callId;
      if (typeof event !== 'string' || typeof callId !== 'string') return reply.code(400).send();
      await pool.query(REFERENCE_INSERT, [request.params.agencyId, callId, event, raw]);
      return reply.code(204).send();
    },
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  process.send?.({ type: 'listening', port: typeof address === 'object' && address ? address.port : 0 });
  const stop = () => {
    void app
      .close()
      .then(() => pool.end())
      .finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: Error) => {
  process.stderr.write(`ingest reference: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
