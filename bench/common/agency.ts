/**
 * An agency set up the way a real one is (test/support/call-fixtures.ts): the operator CLI creates it,
 * then, through the API, its owner saves an Ultravox key with the webhook registered, creates a default
 * agent and generates an API key. The Ultravox signing secret is read from what the simulator received at
 * POST /api/webhooks — exactly the secret Ultravox would sign this agency's webhooks with.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { request } from 'undici';
import type { BenchWorld } from './world';

const CLI_JS = join(__dirname, '..', '..', 'src', 'cli.js');

export interface BenchAgency {
  agencyId: string;
  ownerToken: string;
  /** The ingest URL handed out by save-ultravox-integration. */
  webhookUrl: string;
  /** Its path: /functions/v1/webhook-ingest/<agencyId>/<webhookSecret>. */
  ingestPath: string;
  /** What Ultravox signs this agency's webhooks with. */
  signingSecret: string;
  apiKey: string;
  agentId: string;
}

/** A key of Ultravox's shape that the simulator accepts (8 + "." + 32 alphanumerics). */
function ultravoxKey(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const alnum = (n: number) => Array.from(randomBytes(n), (b) => alphabet[b % alphabet.length]).join('');
  return `${alnum(8)}.${alnum(32)}`;
}

async function call<T>(
  base: string,
  method: 'POST' | 'PATCH' | 'GET',
  path: string,
  token: string | null,
  body: unknown,
  expected: number,
): Promise<T> {
  const res = await request(`${base}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.body.text();
  if (res.statusCode !== expected) throw new Error(`${method} ${path}: ${res.statusCode} ${text}`);
  return (text ? JSON.parse(text) : null) as T;
}

/** `n` tells several agencies of one world apart (their owners' emails). */
export async function setUpAgency(
  world: BenchWorld,
  apiUrl: string,
  simUrl: string,
  n = 0,
): Promise<BenchAgency> {
  const env = { PATH: process.env.PATH ?? '', ...world.env, DB_MIGRATIONS_RUN: 'false', LOG_LEVEL: 'silent' };
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      CLI_JS,
      'agency:create',
      '--name',
      n === 0 ? 'Bench Agency' : `Bench Agency ${n}`,
      '--owner-email',
      n === 0 ? 'owner@bench.test' : `owner${n}@bench.test`,
    ],
    { env },
  );
  const created = JSON.parse(stdout) as { agency_id: string; token: string };
  const token = created.token;

  const saved = await call<{ webhook_url: string }>(
    apiUrl,
    'POST',
    '/functions/v1/save-ultravox-integration',
    token,
    { api_key: ultravoxKey(), register_webhook: true },
    200,
  );
  const { requests } = await call<{ requests: { method: string; path: string; body: unknown }[] }>(
    simUrl,
    'GET',
    '/_sim/requests',
    null,
    undefined,
    200,
  );
  const registration = requests.find(
    (r) =>
      r.method === 'POST' &&
      r.path === '/api/webhooks' &&
      (r.body as { url?: string } | null)?.url === saved.webhook_url,
  );
  const body = registration?.body as { url?: string; secrets?: string[] } | undefined;
  if (!body?.secrets?.[0] || body.url !== saved.webhook_url) {
    throw new Error(`the simulator got no webhook registration for ${saved.webhook_url}`);
  }

  const agent = await call<{ data: { id: string } }>(
    apiUrl,
    'POST',
    '/api/v1/agents',
    token,
    { name: 'Bench Agent', ultravox_agent_id: randomUUID(), phone_number: '+15550001111' },
    201,
  );
  await call(apiUrl, 'PATCH', '/api/v1/integrations/api', token, { default_agent_id: agent.data.id }, 200);
  const key = await call<{ api_key: string }>(
    apiUrl,
    'POST',
    '/api/v1/integrations/api/key',
    token,
    undefined,
    200,
  );

  return {
    agencyId: created.agency_id,
    ownerToken: token,
    webhookUrl: saved.webhook_url,
    ingestPath: new URL(saved.webhook_url).pathname,
    signingSecret: body.secrets[0],
    apiKey: key.api_key,
    agentId: agent.data.id,
  };
}
