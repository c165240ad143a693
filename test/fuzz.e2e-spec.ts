import fc from 'fast-check';
import request from 'supertest';
import { request as http } from 'undici';
import { startUltravoxSim, UltravoxSim } from '../tools/ultravox-sim/server';
import { callingAgency, CallingAgency, subscribe, trigger } from './support/call-fixtures';
import {
  encodeLoosely,
  FuzzRequest,
  IdPool,
  OpenApiDocument,
  Operation,
  operationsOf,
  requestFor,
} from './support/openapi-fuzz';
import { startTestApp, TestApp } from './support/test-app';

/**
 * Walks the running app's own OpenAPI document and sends every operation generated malformed
 * requests — wrong types, missing and extra fields, nulls, empty and huge and deep values, NUL and
 * surrogate strings, impossible dates and cursors, foreign ids, other content types — with each
 * credential. Every answer must be below 500, every refusal in the contract's error shape, and a
 * refused request must leave every table as it was.
 *
 * Seeded: FUZZ_SEED (default below) and FUZZ_RUNS per operation; FUZZ_ONLY="POST /api/v1/campaigns"
 * limits it to one operation. A failure prints the request as sent and fast-check's replay line.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261203);
const RUNS = Number(process.env.FUZZ_RUNS ?? 60);
const ONLY = process.env.FUZZ_ONLY;

/** Operations whose answers are not the API's to shape (documents, probes). */
const NOT_FUZZED = new Set(['GET /health']);

const ERROR_KEYS = ['code', 'message', 'hint', 'details', 'error_id'];

describe('fuzz: every operation of the OpenAPI document refuses malformed input cleanly', () => {
  let sim: UltravoxSim;
  let t: TestApp;
  let agency: CallingAgency;
  let other: CallingAgency;
  let ids: IdPool;
  let operations: Operation[];
  const credentials: Record<string, () => string | undefined> = {};

  beforeAll(async () => {
    sim = await startUltravoxSim({});
    // API only: no worker writes rows behind the fuzzer's back, so "nothing written" is exact.
    t = await startTestApp({
      ULTRAVOX_API_BASE_URL: sim.url,
      APP_ROLE: 'api',
      API_RATE_LIMIT_PER_MINUTE: '1000000',
    });
    agency = await callingAgency(t);
    other = await callingAgency(t);
    const resources = async (owner: CallingAgency) => {
      const webhook = await request(t.url)
        .post('/api/v1/webhooks')
        .set('Authorization', owner.owner.auth)
        .send({ url: 'https://example.com/hooks', events: ['call.completed'] })
        .expect(201);
      const webhookId = webhook.body.data.webhookId as string;
      await subscribe(t, owner, 'https://example.com/other');
      const campaign = await request(t.url)
        .post('/api/v1/campaigns')
        .set('Authorization', owner.owner.auth)
        .send({ name: 'Fuzz' })
        .expect(201);
      const call = await trigger(t, owner.apiKey, { phone: '+15551230000' }).expect(200);
      const test = await request(t.url)
        .post(`/api/v1/webhooks/${webhookId}/test`)
        .set('Authorization', owner.owner.auth);
      const deliveryId = (test.body.data?.id ?? test.body.data?.delivery_id) as string | undefined;
      return [owner.agentId, webhookId, campaign.body.data.id, call.body.call_id, owner.agencyId, deliveryId]
        .filter((id): id is string => typeof id === 'string')
        .concat(['+15551230000']);
    };
    ids = { own: await resources(agency), foreign: await resources(other) };
    // The first two are sent most (see requestFor): both of an agency's credentials.
    credentials.owner = () => agency.owner.auth;
    credentials['api key'] = () => `Bearer ${agency.apiKey}`;
    credentials.member = () => agency.member.auth;
    credentials.none = () => undefined;
    credentials['bad token'] = () => 'Bearer not-a-token';
    const doc = (await request(t.url).get('/docs-json').expect(200)).body as OpenApiDocument;
    operations = operationsOf(doc).filter((op) => !NOT_FUZZED.has(`${op.method} ${op.path}`));
  });
  afterAll(async () => {
    await t?.close();
    await sim?.close();
  });

  /** Rows per table: what a refused request must leave unchanged. */
  async function rowCounts(): Promise<Record<string, number>> {
    const tables = await t.db.query<{ name: string }>(
      "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
    );
    const sql = tables.rows
      .map(({ name }) => `SELECT '${name}' AS name, count(*)::int AS n FROM "${name}"`)
      .join(' UNION ALL ');
    const counts = await t.db.query<{ name: string; n: number }>(sql);
    return Object.fromEntries(counts.rows.map(({ name, n }) => [name, n]));
  }

  async function send(req: FuzzRequest) {
    const query = Object.entries(req.query)
      .flatMap(([name, value]) =>
        (Array.isArray(value) ? value : [value]).map((v) => `${name}=${encodeLoosely(v)}`),
      )
      .join('&');
    const headers: Record<string, string> = { ...req.headers };
    const auth = credentials[req.credential]();
    if (auth) headers.authorization = auth;
    if (req.contentType) headers['content-type'] = req.contentType;
    const res = await http(`${t.url}${req.path}${query ? `?${query}` : ''}`, {
      method: req.method,
      headers,
      body: req.body,
      headersTimeout: 15_000,
      bodyTimeout: 15_000,
    });
    const text = await res.body.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // kept as text for the report
    }
    return { status: res.statusCode, body };
  }

  /** A request that succeeded may have changed what later ones need: the API key, API access. */
  async function afterSuccess(req: FuzzRequest, body: unknown): Promise<void> {
    const apiKey = (body as { api_key?: unknown }).api_key;
    if (req.path === '/api/v1/integrations/api/key' && typeof apiKey === 'string') agency.apiKey = apiKey;
    if (req.path === '/api/v1/integrations/api') {
      await request(t.url)
        .patch('/api/v1/integrations/api')
        .set('Authorization', agency.owner.auth)
        .send({ enabled: true })
        .expect(200);
    }
  }

  function problemWith(
    status: number,
    body: unknown,
    before: Record<string, number>,
    after: Record<string, number>,
  ) {
    if (status >= 500) return `answered ${status}`;
    if (status < 400) return null;
    const error = (body as { success?: unknown; error?: Record<string, unknown> })?.error;
    if ((body as { success?: unknown })?.success !== false || !error)
      return 'an error not in the contract shape';
    if (typeof error.code !== 'string' || !/^[a-z][a-z0-9_]*$/.test(error.code))
      return 'error.code is not snake_case';
    if (typeof error.message !== 'string' || error.message === '') return 'error.message is empty';
    const extra = Object.keys(error).filter((key) => !ERROR_KEYS.includes(key));
    if (extra.length > 0) return `error has keys outside the contract: ${extra.join(', ')}`;
    const changed = Object.keys(after).filter((table) => after[table] !== before[table]);
    if (changed.length > 0) return `refused, yet rows changed in ${changed.join(', ')}`;
    return null;
  }

  it('never answers 5xx, always answers errors in the contract shape, and writes nothing it refuses', async () => {
    expect(operations.length).toBeGreaterThan(40);
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    for (const op of operations) {
      const name = `${op.method} ${op.path}`;
      if (ONLY && ONLY !== name) continue;
      const property = fc.asyncProperty(requestFor(op, ids, Object.keys(credentials)), async (req) => {
        const before = await rowCounts();
        const { status, body } = await send(req);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        const after = status >= 400 ? await rowCounts() : before;
        const problem = problemWith(status, body, before, after);
        if (problem) {
          throw new Error(
            `${problem}\nrequest: ${JSON.stringify(req).slice(0, 2_000)}\nanswer: ${JSON.stringify(body).slice(0, 1_000)}`,
          );
        }
        if (status < 300) await afterSuccess(req, body);
      });
      try {
        await fc.assert(property, { seed: SEED, numRuns: RUNS });
      } catch (err) {
        failures.push(`${name} (replay: FUZZ_SEED=${SEED} FUZZ_ONLY="${name}")\n${(err as Error).message}`);
      }
    }
    // Most answers are refusals, of many kinds: the generator reaches past the first check.
    expect([...statuses.keys()].filter((s) => s >= 400).length).toBeGreaterThan(5);
    if (failures.length > 0)
      throw new Error(`${failures.length} operation(s) failed:\n\n${failures.join('\n\n')}`);
    // About 20 s alone; the bound leaves room for a CI run whose other specs share the two cores.
  }, 180_000);
});
