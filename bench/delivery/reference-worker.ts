/**
 * The reference the benchmark compares Switchboard's worker with: a bare BullMQ Worker (same Redis, its
 * own prefix and queue, same concurrency) that signs each job's body like Switchboard does and POSTs it
 * with undici to the same receiver — no database, no Nest. Forked by bench/delivery.ts.
 */
import { Job, Worker } from 'bullmq';
import { Agent, request } from 'undici';
import { standardWebhookSignature, xSignature } from '../../src/webhooks/delivery/signer';
import type { ReferenceJob } from './protocol';

const required = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`reference worker: ${name} is required`);
  return value;
};

const targetUrl = required('REF_TARGET_URL');
const secret = required('REF_SECRET');
const timeoutMs = 10_000;
const agent = new Agent({
  keepAliveTimeout: 30_000,
  connections: 256,
  headersTimeout: timeoutMs,
  bodyTimeout: timeoutMs,
  connect: { timeout: timeoutMs },
});

async function deliver(job: Job<ReferenceJob>): Promise<void> {
  const { eventId, body } = job.data;
  const timestamp = Math.floor(Date.now() / 1000);
  const response = await request(targetUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'switchboard-bench-reference',
      'webhook-id': eventId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': standardWebhookSignature([secret], eventId, timestamp, body),
      'x-signature': xSignature(secret, body),
    },
    body,
    dispatcher: agent,
    signal: AbortSignal.timeout(timeoutMs),
  });
  await response.body.text();
  if (response.statusCode < 200 || response.statusCode >= 300) {
    throw new Error(`receiver answered ${response.statusCode}`);
  }
}

async function main(): Promise<void> {
  const worker = new Worker<ReferenceJob>(required('REF_QUEUE'), deliver, {
    connection: { url: required('REF_REDIS_URL') },
    prefix: required('REF_PREFIX'),
    concurrency: Number(required('REF_CONCURRENCY')),
  });
  await worker.waitUntilReady();
  const stop = async () => {
    await worker.close();
    await agent.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('disconnect', () => void stop());
  process.send?.({ type: 'ready' });
}

main().catch((err: Error) => {
  process.stderr.write(`reference worker: ${err.message}\n`);
  process.exit(1);
});
