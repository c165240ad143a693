import request from 'supertest';
import { errorBody } from './support/errors';
import { createAgency, generateApiKey, TestAgency } from './support/fixtures';
import { startTestApp, TestApp } from './support/test-app';

const AGENT_FIELDS = [
  'id',
  'name',
  'ultravox_agent_id',
  'phone_number',
  'telephony_provider',
  'calling_window',
  'ultravox_check',
  'ultravox_checked_at',
  'context_variables',
  'warning',
  'record_calls',
  'created_at',
  'updated_at',
].sort();

const WINDOW = { timezone: 'America/New_York', days: ['mon', 'tue', 'wed'], start: '09:00', end: '17:30' };

describe('Agents CRUD (CONTRACT §7)', () => {
  let t: TestApp;
  let agency: TestAgency;

  beforeAll(async () => {
    t = await startTestApp();
    agency = await createAgency(t);
  });
  afterAll(() => t.close());

  const api = () => request(t.url);

  async function createAgent(auth: string, body: Record<string, unknown> = {}) {
    const res = await api()
      .post('/api/v1/agents')
      .set('Authorization', auth)
      .send({ name: 'Sales bot', ultravox_agent_id: 'uv-agent-1', ...body })
      .expect(201);
    return res.body.data as Record<string, unknown> & { id: string };
  }

  describe('create', () => {
    it('answers 201 with the agent, defaulting telephony_provider to twilio', async () => {
      const res = await api()
        .post('/api/v1/agents')
        .set('Authorization', agency.owner.auth)
        .send({ name: 'Front desk', ultravox_agent_id: 'uv-front-desk', phone_number: '+15551234567' });
      expect(res.status).toBe(201);
      expect(res.body.success).toBe(true);
      expect(Object.keys(res.body.data).sort()).toEqual(AGENT_FIELDS);
      expect(res.body.data).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        name: 'Front desk',
        ultravox_agent_id: 'uv-front-desk',
        phone_number: '+15551234567',
        telephony_provider: 'twilio',
        calling_window: null,
        // The agency has no Ultravox key: nothing to check the agent against yet.
        ultravox_check: 'not_checked',
        ultravox_checked_at: null,
        context_variables: null,
        warning: null,
        record_calls: false,
        created_at: expect.any(String),
        updated_at: expect.any(String),
      });
      expect(Number.isNaN(Date.parse(res.body.data.created_at))).toBe(false);
      expect(Number.isNaN(Date.parse(res.body.data.updated_at))).toBe(false);
    });

    it('stores the given provider and calling window, and returns them on GET', async () => {
      const created = await createAgent(agency.owner.auth, {
        telephony_provider: 'telnyx',
        calling_window: WINDOW,
      });
      expect(created).toMatchObject({ telephony_provider: 'telnyx', calling_window: WINDOW });
      const res = await api()
        .get(`/api/v1/agents/${created.id}`)
        .set('Authorization', agency.owner.auth)
        .expect(200);
      expect(res.body).toEqual({ success: true, data: created });
    });

    it('creates an agent without a phone number', async () => {
      const created = await createAgent(agency.owner.auth);
      expect(created.phone_number).toBeNull();
    });

    it.each([
      ['+1 (555) 123-4567', '+15551234567'],
      ['+44 20 7946 0958', '+442079460958'],
      [' +49 30 12345678 ', '+493012345678'],
    ])('normalises the phone number %j to E.164 %s', async (given, stored) => {
      const created = await createAgent(agency.owner.auth, { phone_number: given });
      expect(created.phone_number).toBe(stored);
      const row = await t.db.query('SELECT phone_number FROM agents WHERE id = $1', [created.id]);
      expect(row.rows[0].phone_number).toBe(stored);
    });

    const valid = { name: 'Bot', ultravox_agent_id: 'uv-1' };
    it.each<[string, Record<string, unknown>, string]>([
      ['a phone number without a country code', { ...valid, phone_number: '5551234567' }, 'phone_number'],
      ['a phone number that is not a number', { ...valid, phone_number: 'call me maybe' }, 'phone_number'],
      ['a phone number that is too short', { ...valid, phone_number: '+1555' }, 'phone_number'],
      ['an unknown telephony provider', { ...valid, telephony_provider: 'vonage' }, 'telephony_provider'],
      [
        'a calling window with an unknown IANA zone',
        { ...valid, calling_window: { ...WINDOW, timezone: 'Mars/Olympus_Mons' } },
        'calling_window.timezone',
      ],
      [
        'a calling window with a bad day name',
        { ...valid, calling_window: { ...WINDOW, days: ['mon', 'funday'] } },
        'calling_window.days',
      ],
      [
        'a calling window with no days',
        { ...valid, calling_window: { ...WINDOW, days: [] } },
        'calling_window.days',
      ],
      [
        'a calling window ending at 25:00',
        { ...valid, calling_window: { ...WINDOW, end: '25:00' } },
        'calling_window.end',
      ],
      [
        'a calling window starting at 25:00',
        { ...valid, calling_window: { ...WINDOW, start: '25:00' } },
        'calling_window.start',
      ],
      [
        'a calling window whose start equals its end',
        { ...valid, calling_window: { ...WINDOW, start: '09:00', end: '09:00' } },
        'calling_window.end',
      ],
      ['a missing name', { ultravox_agent_id: 'uv-1' }, 'name'],
      ['an empty name', { ...valid, name: '' }, 'name'],
      ['a missing ultravox_agent_id', { name: 'Bot' }, 'ultravox_agent_id'],
      ['an unknown extra field', { ...valid, voice: 'Mark' }, 'voice'],
      ['a calling window that is an empty array', { ...valid, calling_window: [] }, 'calling_window'],
      ['a calling window that is a string', { ...valid, calling_window: 'weekdays' }, 'calling_window'],
      [
        'an unknown field inside the calling window',
        { ...valid, calling_window: { ...WINDOW, tz: 'x' } },
        'calling_window.tz',
      ],
    ])('rejects %s with 400 validation_failed naming the field', async (_, body, field) => {
      const res = await api()
        .post('/api/v1/agents')
        .set('Authorization', agency.owner.auth)
        .send(body)
        .expect(400);
      expect(res.body).toEqual(errorBody('validation_failed'));
      expect(res.body.error.details).toEqual(
        expect.arrayContaining([{ field, message: expect.any(String) }]),
      );
    });

    it('reports every invalid field at once, one detail per field', async () => {
      const res = await api()
        .post('/api/v1/agents')
        .set('Authorization', agency.owner.auth)
        .send({ ultravox_agent_id: 'uv-1', phone_number: 'nope', telephony_provider: 'vonage' })
        .expect(400);
      expect(res.body.error.code).toBe('validation_failed');
      const fields = (res.body.error.details as Array<{ field: string }>).map((d) => d.field).sort();
      expect(fields).toEqual(['name', 'phone_number', 'telephony_provider']);
    });

    it('stores nothing when validation fails', async () => {
      const fresh = await createAgency(t, 'Validation agency');
      await api()
        .post('/api/v1/agents')
        .set('Authorization', fresh.owner.auth)
        .send({ name: 'Bot', ultravox_agent_id: 'uv-1', telephony_provider: 'vonage' })
        .expect(400);
      const rows = await t.db.query('SELECT count(*)::int AS n FROM agents WHERE agency_id = $1', [
        fresh.agencyId,
      ]);
      expect(rows.rows[0].n).toBe(0);
    });
  });

  describe('read', () => {
    it('gets one agent by id', async () => {
      const created = await createAgent(agency.owner.auth, { name: 'Lookup', phone_number: '+15550001111' });
      const res = await api()
        .get(`/api/v1/agents/${created.id}`)
        .set('Authorization', agency.member.auth)
        .expect(200);
      expect(res.body).toEqual({ success: true, data: created });
    });

    it('answers 404 agent_not_found for an unknown id', async () => {
      const res = await api()
        .get('/api/v1/agents/6f1d0c1e-0000-4000-8000-000000000000')
        .set('Authorization', agency.owner.auth)
        .expect(404);
      expect(res.body).toEqual(errorBody('agent_not_found'));
    });

    it.each([['get'], ['patch'], ['delete']] as const)(
      'answers 400 to %s with a non-uuid id',
      async (method) => {
        const req = api()[method]('/api/v1/agents/not-a-uuid').set('Authorization', agency.owner.auth);
        const res = await (method === 'patch' ? req.send({ name: 'x' }) : req).expect(400);
        expect(res.body.success).toBe(false);
        expect(res.body.error).toEqual(
          expect.objectContaining({ code: expect.any(String), message: expect.any(String) }),
        );
      },
    );

    it('lists the agency agents newest first', async () => {
      const fresh = await createAgency(t, 'List agency');
      const ids: string[] = [];
      for (const name of ['first', 'second', 'third'])
        ids.push((await createAgent(fresh.owner.auth, { name })).id);
      const res = await api().get('/api/v1/agents').set('Authorization', fresh.member.auth).expect(200);
      expect(res.body.success).toBe(true);
      expect(res.body.next_cursor).toBeNull();
      expect(res.body.data.map((a: { id: string }) => a.id)).toEqual([...ids].reverse());
      expect(res.body.data.map((a: { name: string }) => a.name)).toEqual(['third', 'second', 'first']);
      for (const agent of res.body.data) expect(Object.keys(agent).sort()).toEqual(AGENT_FIELDS);
    });

    it('pages through the list with limit and next_cursor, every agent exactly once', async () => {
      const fresh = await createAgency(t, 'Paging agency');
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await createAgent(fresh.owner.auth, { name: `agent ${i}` })).id);
      const seen: string[] = [];
      const pageSizes: number[] = [];
      let cursor: string | null = null;
      do {
        const query: Record<string, string | number> = { limit: 2 };
        if (cursor) query.cursor = cursor;
        const res = await api()
          .get('/api/v1/agents')
          .query(query)
          .set('Authorization', fresh.owner.auth)
          .expect(200);
        pageSizes.push(res.body.data.length);
        seen.push(...res.body.data.map((a: { id: string }) => a.id));
        cursor = res.body.next_cursor;
      } while (cursor !== null && pageSizes.length < 10);
      expect(pageSizes).toEqual([2, 2, 1]);
      expect(seen).toEqual([...ids].reverse());
    });

    it('answers next_cursor null when the last page is exactly full', async () => {
      const fresh = await createAgency(t, 'Exact page agency');
      for (let i = 0; i < 2; i++) await createAgent(fresh.owner.auth, { name: `agent ${i}` });
      const res = await api()
        .get('/api/v1/agents')
        .query({ limit: 2 })
        .set('Authorization', fresh.owner.auth)
        .expect(200);
      expect(res.body.data).toHaveLength(2);
      expect(res.body.next_cursor).toBeNull();
    });

    it.each([
      ['a random string', 'garbage'],
      ['base64 of something that is not a position', Buffer.from('{"hello":"world"}').toString('base64url')],
      [
        'a position whose id is not a uuid',
        Buffer.from(JSON.stringify({ t: '2024-01-01 00:00:00+00', i: 'not-a-uuid' })).toString('base64url'),
      ],
      [
        'a position whose time Postgres cannot read',
        Buffer.from(JSON.stringify({ t: '1', i: '6f1d0c1e-0000-4000-8000-000000000000' })).toString(
          'base64url',
        ),
      ],
      [
        'a position whose time is not a time',
        Buffer.from(JSON.stringify({ t: 'yesterday', i: '6f1d0c1e-0000-4000-8000-000000000000' })).toString(
          'base64url',
        ),
      ],
      [
        'a position whose time does not exist',
        Buffer.from(
          JSON.stringify({ t: '2026-02-30 10:00:00+00', i: '6f1d0c1e-0000-4000-8000-000000000000' }),
        ).toString('base64url'),
      ],
    ])('answers 400 invalid_cursor to a cursor that is %s', async (_, cursor) => {
      const res = await api()
        .get('/api/v1/agents')
        .query({ cursor })
        .set('Authorization', agency.owner.auth)
        .expect(400);
      expect(res.body).toEqual(errorBody('invalid_cursor'));
    });

    it.each([
      '/api/v1/calls',
      '/api/v1/campaigns',
      '/api/v1/dnc',
      '/api/v1/webhooks',
      '/api/v1/integrations/api/deliveries',
    ])('GET %s answers 400 invalid_cursor to a time that does not exist (2026-02-30)', async (path) => {
      const cursor = Buffer.from(
        JSON.stringify({ t: '2026-02-30 10:00:00+00', i: '6f1d0c1e-0000-4000-8000-000000000000' }),
      ).toString('base64url');
      const res = await api().get(path).query({ cursor }).set('Authorization', agency.owner.auth).expect(400);
      expect(res.body).toEqual(errorBody('invalid_cursor'));
    });

    it.each(['0', '101', '-1', 'ten', '2.5'])('answers 400 validation_failed to limit=%s', async (limit) => {
      const res = await api()
        .get('/api/v1/agents')
        .query({ limit })
        .set('Authorization', agency.owner.auth)
        .expect(400);
      expect(res.body).toEqual(errorBody('validation_failed'));
      expect(res.body.error.details).toEqual([{ field: 'limit', message: expect.any(String) }]);
    });

    it('accepts limit 1 and limit 100', async () => {
      for (const limit of [1, 100]) {
        const res = await api()
          .get('/api/v1/agents')
          .query({ limit })
          .set('Authorization', agency.owner.auth)
          .expect(200);
        expect(res.body.data.length).toBeLessThanOrEqual(limit);
      }
    });
  });

  describe('update', () => {
    it('changes only the given fields', async () => {
      const created = await createAgent(agency.owner.auth, {
        name: 'Patch me',
        phone_number: '+15550002222',
        telephony_provider: 'plivo',
        calling_window: WINDOW,
      });
      const res = await api()
        .patch(`/api/v1/agents/${created.id}`)
        .set('Authorization', agency.owner.auth)
        .send({ phone_number: '+1 (555) 000-3333' })
        .expect(200);
      expect(res.body).toEqual({
        success: true,
        data: {
          ...created,
          phone_number: '+15550003333',
          updated_at: expect.any(String),
        },
      });
      expect(Date.parse(res.body.data.updated_at)).toBeGreaterThanOrEqual(
        Date.parse(created.updated_at as string),
      );
      const again = await api()
        .get(`/api/v1/agents/${created.id}`)
        .set('Authorization', agency.owner.auth)
        .expect(200);
      expect(again.body.data).toEqual(res.body.data);
    });

    it('keeps a non-default provider when other fields change', async () => {
      const created = await createAgent(agency.owner.auth, { telephony_provider: 'telnyx' });
      const res = await api()
        .patch(`/api/v1/agents/${created.id}`)
        .set('Authorization', agency.owner.auth)
        .send({ name: 'Renamed' })
        .expect(200);
      expect(res.body.data).toMatchObject({ name: 'Renamed', telephony_provider: 'telnyx' });
    });

    it('changes the provider and the calling window', async () => {
      const created = await createAgent(agency.owner.auth);
      const window = { timezone: 'Europe/Berlin', days: ['sat', 'sun'], start: '10:00', end: '12:00' };
      const res = await api()
        .patch(`/api/v1/agents/${created.id}`)
        .set('Authorization', agency.owner.auth)
        .send({ telephony_provider: 'plivo', calling_window: window })
        .expect(200);
      expect(res.body.data).toMatchObject({ telephony_provider: 'plivo', calling_window: window });
    });

    it('removes the calling window with calling_window: null', async () => {
      const created = await createAgent(agency.owner.auth, { calling_window: WINDOW });
      const res = await api()
        .patch(`/api/v1/agents/${created.id}`)
        .set('Authorization', agency.owner.auth)
        .send({ calling_window: null })
        .expect(200);
      expect(res.body.data.calling_window).toBeNull();
      const row = await t.db.query('SELECT calling_window FROM agents WHERE id = $1', [created.id]);
      expect(row.rows[0].calling_window).toBeNull();
    });

    it('removes the phone number with phone_number: null', async () => {
      const created = await createAgent(agency.owner.auth, { phone_number: '+15550004444' });
      const res = await api()
        .patch(`/api/v1/agents/${created.id}`)
        .set('Authorization', agency.owner.auth)
        .send({ phone_number: null })
        .expect(200);
      expect(res.body.data.phone_number).toBeNull();
    });

    it.each<[string, Record<string, unknown>, string]>([
      ['a phone number that is not E.164', { phone_number: '555-1234' }, 'phone_number'],
      ['an unknown provider', { telephony_provider: 'vonage' }, 'telephony_provider'],
      ['an empty name', { name: '' }, 'name'],
      [
        'a calling window that ends when it starts',
        { calling_window: { ...WINDOW, start: '18:00', end: '18:00' } },
        'calling_window.end',
      ],
      ['an unknown field', { colour: 'blue' }, 'colour'],
    ])('rejects %s with 400 validation_failed and changes nothing', async (_, body, field) => {
      const created = await createAgent(agency.owner.auth, { phone_number: '+15550005555' });
      const res = await api()
        .patch(`/api/v1/agents/${created.id}`)
        .set('Authorization', agency.owner.auth)
        .send(body)
        .expect(400);
      expect(res.body).toEqual(errorBody('validation_failed'));
      expect(res.body.error.details).toEqual(
        expect.arrayContaining([{ field, message: expect.any(String) }]),
      );
      const again = await api()
        .get(`/api/v1/agents/${created.id}`)
        .set('Authorization', agency.owner.auth)
        .expect(200);
      expect(again.body.data).toEqual(created);
    });

    it('answers 404 agent_not_found when patching an unknown agent', async () => {
      const res = await api()
        .patch('/api/v1/agents/6f1d0c1e-0000-4000-8000-000000000000')
        .set('Authorization', agency.owner.auth)
        .send({ name: 'Ghost' })
        .expect(404);
      expect(res.body).toEqual(errorBody('agent_not_found'));
    });
  });

  describe('delete', () => {
    it('deletes an agent, after which GET answers 404 agent_not_found', async () => {
      const created = await createAgent(agency.owner.auth);
      const res = await api()
        .delete(`/api/v1/agents/${created.id}`)
        .set('Authorization', agency.owner.auth)
        .expect(200);
      expect(res.body).toEqual({ success: true });
      const gone = await api()
        .get(`/api/v1/agents/${created.id}`)
        .set('Authorization', agency.owner.auth)
        .expect(404);
      expect(gone.body).toEqual(errorBody('agent_not_found'));
      const list = await api()
        .get('/api/v1/agents')
        .query({ limit: 100 })
        .set('Authorization', agency.owner.auth);
      expect(list.body.data.map((a: { id: string }) => a.id)).not.toContain(created.id);
    });

    it('answers 404 agent_not_found when deleting the same agent twice', async () => {
      const created = await createAgent(agency.owner.auth);
      await api().delete(`/api/v1/agents/${created.id}`).set('Authorization', agency.owner.auth).expect(200);
      const res = await api()
        .delete(`/api/v1/agents/${created.id}`)
        .set('Authorization', agency.owner.auth)
        .expect(404);
      expect(res.body).toEqual(errorBody('agent_not_found'));
    });

    it("deleting the agency's default agent clears default_agent_id", async () => {
      const fresh = await createAgency(t, 'Default agent agency');
      const created = await createAgent(fresh.owner.auth);
      const set = await api()
        .patch('/api/v1/integrations/api')
        .set('Authorization', fresh.owner.auth)
        .send({ default_agent_id: created.id })
        .expect(200);
      expect(set.body.data.default_agent_id).toBe(created.id);
      await api().delete(`/api/v1/agents/${created.id}`).set('Authorization', fresh.owner.auth).expect(200);
      const res = await api()
        .get('/api/v1/integrations/api')
        .set('Authorization', fresh.owner.auth)
        .expect(200);
      expect(res.body.success).toBe(true);
      expect(res.body.data.default_agent_id).toBeNull();
    });

    it('deleting another agent leaves the default agent in place', async () => {
      const fresh = await createAgency(t, 'Default kept agency');
      const keeper = await createAgent(fresh.owner.auth, { name: 'keeper' });
      const other = await createAgent(fresh.owner.auth, { name: 'other' });
      await api()
        .patch('/api/v1/integrations/api')
        .set('Authorization', fresh.owner.auth)
        .send({ default_agent_id: keeper.id })
        .expect(200);
      await api().delete(`/api/v1/agents/${other.id}`).set('Authorization', fresh.owner.auth).expect(200);
      const res = await api()
        .get('/api/v1/integrations/api')
        .set('Authorization', fresh.owner.auth)
        .expect(200);
      expect(res.body.data.default_agent_id).toBe(keeper.id);
    });
  });

  describe('with the agency API key', () => {
    it('creates, lists, gets, patches and deletes agents', async () => {
      const fresh = await createAgency(t, 'API key agency');
      const key = `Bearer ${await generateApiKey(t, fresh.owner)}`;
      const created = await createAgent(key, { name: 'Via key', phone_number: '+1 555 123 4567' });
      expect(created).toMatchObject({
        name: 'Via key',
        phone_number: '+15551234567',
        telephony_provider: 'twilio',
      });
      const list = await api().get('/api/v1/agents').set('Authorization', key).expect(200);
      expect(list.body).toEqual({ success: true, data: [created], next_cursor: null });
      await api().get(`/api/v1/agents/${created.id}`).set('Authorization', key).expect(200);
      const patched = await api()
        .patch(`/api/v1/agents/${created.id}`)
        .set('Authorization', key)
        .send({ telephony_provider: 'telnyx' })
        .expect(200);
      expect(patched.body.data.telephony_provider).toBe('telnyx');
      await api().delete(`/api/v1/agents/${created.id}`).set('Authorization', key).expect(200);
      await api().get(`/api/v1/agents/${created.id}`).set('Authorization', key).expect(404);
    });

    it('sees the agents the dashboard users created', async () => {
      const fresh = await createAgency(t, 'Shared view agency');
      const created = await createAgent(fresh.admin.auth, { name: 'By admin' });
      const key = `Bearer ${await generateApiKey(t, fresh.owner)}`;
      const list = await api().get('/api/v1/agents').set('Authorization', key).expect(200);
      expect(list.body.data).toEqual([created]);
    });
  });
});
