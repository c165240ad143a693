import { connect } from 'node:net';
import request from 'supertest';
import { MAX_JSON_DEPTH } from '../src/common/http/storable-input';
import { errorBody, expectValidationFailed } from './support/errors';
import { createAgency, generateApiKey, TestAgency } from './support/fixtures';
import { startTestApp, TestApp } from './support/test-app';

/** Sends bytes as they are (no client library to tidy them up) and returns the whole answer. */
function rawHttp(baseUrl: string, bytes: string): Promise<{ status: number; body: unknown }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(bytes));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head, body] = answer.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), body: JSON.parse(body) });
    });
  });
}

/** `{"a":{"a":…}}` nested `levels` deep, as JSON text (JSON.stringify would recurse as deep). */
const nested = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);

describe('the edge: input no route can store answers 400 before anything is written', () => {
  let t: TestApp;
  let agency: TestAgency;
  let apiKey: string;

  beforeAll(async () => {
    t = await startTestApp();
    agency = await createAgency(t);
    apiKey = await generateApiKey(t, agency.owner);
  });
  afterAll(() => t.close());

  const api = () => request(t.url);
  const key = () => `Bearer ${apiKey}`;
  const count = async (table: string) =>
    (await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n;
  /** JSON text sent as typed: supertest would re-encode an object (and cannot nest 5,000 levels). */
  const postJson = (path: string, json: string) =>
    api().post(path).set('Authorization', key()).set('Content-Type', 'application/json').send(json);

  it.each([
    ['a NUL character', '"Spring\\u0000sale"'],
    ['an unpaired high surrogate', '"Spring \\ud800"'],
    ['an unpaired low surrogate', '"\\udc00 Spring"'],
  ])('refuses %s in a string field, naming it, and stores nothing', async (_, name) => {
    const before = await count('campaigns');
    const res = await postJson('/api/v1/campaigns', `{"name": ${name}}`);
    expectValidationFailed(res, 'name');
    expect(res.body.error.details[0].message).toMatch(/NUL character or an unpaired UTF-16 surrogate/);
    expect(await count('campaigns')).toBe(before);
  });

  it('keeps a well-formed pair (an emoji) and every other character as sent', async () => {
    const res = await postJson('/api/v1/campaigns', '{"name": "Spring \\ud83c\\udf38 \\u00e9\\u2028"}');
    expect(res.status).toBe(201);
    expect(res.body.data.name).toBe('Spring 🌸 é\u2028');
  });

  it('refuses unstorable text in metadata keys and values of a trigger-call, placing no call', async () => {
    const before = await count('calls');
    const inValue = await postJson(
      '/api/trigger-call',
      '{"phone": "+15551234567", "metadata": {"crm": {"note": "x\\u0000"}}}',
    );
    expectValidationFailed(inValue, 'metadata.crm.note');
    const inKey = await postJson(
      '/api/trigger-call',
      '{"phone": "+15551234567", "metadata": {"a\\ud800": 1}}',
    );
    expectValidationFailed(inKey, 'metadata');
    expect(inKey.body.error.details[0].message).toMatch(/^a key of metadata contains/);
    expect(await count('calls')).toBe(before);
  });

  it('refuses unstorable text in the query string and in path parameters', async () => {
    const list = await api()
      .get('/api/v1/integrations/api/deliveries?event=call.completed%00')
      .set('Authorization', agency.owner.auth);
    expectValidationFailed(list, 'event');
    const byId = await api().get('/api/v1/calls/%00').set('Authorization', key());
    expectValidationFailed(byId, 'id');
  });

  it('refuses a JSON contact import holding unstorable text, naming the row, and keeps none of it', async () => {
    const campaign = await api().post('/api/v1/campaigns').set('Authorization', key()).send({ name: 'Edge' });
    const id = campaign.body.data.id as string;
    const res = await postJson(
      `/api/v1/campaigns/${id}/contacts`,
      '[{"phone": "+15551230001"}, {"phone": "+15551230002", "company": "Acme\\u0000"}]',
    );
    expectValidationFailed(res, '[1].company');
    expect(await count('campaign_contacts')).toBe(0);
  });

  it('refuses a CSV contact import with a NUL in a cell (invalid_csv naming the line), keeping none of it', async () => {
    const campaign = await api().post('/api/v1/campaigns').set('Authorization', key()).send({ name: 'Edge' });
    const id = campaign.body.data.id as string;
    const res = await api()
      .post(`/api/v1/campaigns/${id}/contacts`)
      .set('Authorization', key())
      .set('Content-Type', 'text/csv')
      .send('phone,name\n+15551230001,Ada\n+15551230002,Gr\u0000ace\n');
    expect(res.status).toBe(400);
    expect(res.body).toEqual(
      errorBody('invalid_csv', expect.stringMatching(/^Line 3: a field contains a NUL/)),
    );
    expect(await count('campaign_contacts')).toBe(0);
  });

  it(`refuses JSON nested deeper than ${MAX_JSON_DEPTH} levels before validating it (thousands of levels included)`, async () => {
    const before = await count('calls');
    for (const levels of [MAX_JSON_DEPTH, 5_000, 100_000]) {
      const res = await postJson(
        '/api/trigger-call',
        `{"phone": "+15551234567", "metadata": ${nested(levels)}}`,
      );
      expect(res.status).toBe(400);
      expect(res.body).toEqual(errorBody('validation_failed'));
      expect(res.body.error.details).toEqual([
        {
          field: expect.stringMatching(/^metadata(\.a)+…?$/),
          message: expect.stringContaining(`nested deeper than ${MAX_JSON_DEPTH} levels`),
        },
      ]);
    }
    const patch = await api()
      .patch('/api/v1/agency')
      .set('Authorization', agency.owner.auth)
      .set('Content-Type', 'application/json')
      .send(`{"calling_window": ${'['.repeat(10_000)}${']'.repeat(10_000)}}`);
    expect(patch.status).toBe(400);
    expect(patch.body).toEqual(errorBody('validation_failed'));
    expect(await count('calls')).toBe(before);
  });

  it('accepts metadata nested within the bound', async () => {
    const res = await postJson(
      '/api/trigger-call',
      `{"phone": "+15551234567", "metadata": ${nested(MAX_JSON_DEPTH - 2)}}`,
    );
    // The edge lets it through: what answers is trigger-call itself (this agency has no agent).
    expect(res.body).toEqual(errorBody('no_agent'));
  });

  it('refuses null for a field that cannot be null on update (campaign name, agent telephony provider)', async () => {
    const campaign = await api().post('/api/v1/campaigns').set('Authorization', key()).send({ name: 'Kept' });
    const id = campaign.body.data.id as string;
    const named = await api()
      .patch(`/api/v1/campaigns/${id}`)
      .set('Authorization', key())
      .send({ name: null });
    expectValidationFailed(named, 'name');
    const agent = await api()
      .post('/api/v1/agents')
      .set('Authorization', key())
      .send({ name: 'Ava', ultravox_agent_id: 'ultravox-agent-1' });
    expect(agent.status).toBe(201);
    const provider = await api()
      .patch(`/api/v1/agents/${agent.body.data.id}`)
      .set('Authorization', key())
      .send({ telephony_provider: null });
    expectValidationFailed(provider, 'telephony_provider');
    const read = await api().get(`/api/v1/campaigns/${id}`).set('Authorization', key());
    expect(read.body.data.name).toBe('Kept');
  });

  it('answers a body over the size limit 413 in the contract shape', async () => {
    const res = await postJson(
      '/api/trigger-call',
      JSON.stringify({ phone: '+15551234567', metadata: { pad: 'x'.repeat(1_100_000) } }),
    );
    expect(res.status).toBe(413);
    expect(res.body).toEqual(errorBody('payload_too_large'));
  });

  it("answers Fastify's and Node's own early errors in the contract shape", async () => {
    const longSegment = await api()
      .get(`/api/v1/calls/${'a'.repeat(150)}`)
      .set('Authorization', key());
    expect(longSegment.status).toBe(414);
    expect(longSegment.body).toEqual(errorBody('uri_too_long'));

    const badEncoding = await api().get('/api/v1/calls/%E0%A4%A').set('Authorization', key());
    expect(badEncoding.status).toBe(400);
    expect(badEncoding.body).toEqual(errorBody('bad_request'));

    const bigHeaders = await rawHttp(
      t.url,
      `GET /api/v1/calls HTTP/1.1\r\nHost: x\r\nX-Padding: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    expect(bigHeaders).toEqual({ status: 431, body: errorBody('headers_too_large') });

    const longUrl = await rawHttp(
      t.url,
      `GET /api/v1/calls?x=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    );
    expect(longUrl).toEqual({ status: 431, body: errorBody('headers_too_large') });

    const notHttp = await rawHttp(t.url, 'HELLO THERE\r\n\r\n');
    expect(notHttp).toEqual({ status: 400, body: errorBody('bad_request') });

    const nulInHeader = await rawHttp(
      t.url,
      'GET /api/v1/calls HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n\r\n',
    );
    expect(nulInHeader).toEqual({ status: 400, body: errorBody('bad_request') });
  });
});
