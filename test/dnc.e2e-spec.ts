import request from 'supertest';
import { startUltravoxSim, UltravoxSim } from '../tools/ultravox-sim/server';
import { errorBody, expectValidationFailed } from './support/errors';
import { callingAgency, simCallsOf, trigger } from './support/call-fixtures';
import { createAgency, generateApiKey, TestAgency } from './support/fixtures';
import { dialsSettled } from './support/settled';
import { waitFor } from './support/wait';
import { startTestApp, TestApp } from './support/test-app';

// The do-not-call list (GET/POST /api/v1/dnc, DELETE /api/v1/dnc/:phone) and trigger-call's refusal of
// listed numbers, against the real app, Postgres, Redis and the Ultravox simulator.

interface DncRow {
  phone_number: string;
  reason: string | null;
  created_at: string;
}

/** `count` distinct E.164 numbers +1 555 nnn nnnn (a fictional range), from `+1555` + `from` as 7 digits. */
const numbersFrom = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => `+1555${String(from + i).padStart(7, '0')}`);

describe('do-not-call list (/api/v1/dnc) and trigger-call', () => {
  let sim: UltravoxSim;
  let t: TestApp;

  beforeAll(async () => {
    sim = await startUltravoxSim({ timeScale: 0.02 });
    t = await startTestApp({ ULTRAVOX_API_BASE_URL: sim.url }, { reachable: true });
  });
  afterAll(async () => {
    await t.close();
    await sim.close();
  });

  const api = () => request(t.url);
  const add = (auth: string, body: object) => api().post('/api/v1/dnc').set('Authorization', auth).send(body);
  const list = (auth: string, query: object = {}) =>
    api().get('/api/v1/dnc').query(query).set('Authorization', auth);
  const remove = (auth: string, phone: string) =>
    api()
      .delete(`/api/v1/dnc/${encodeURIComponent(phone)}`)
      .set('Authorization', auth);

  /** Every listed number of the agency, straight from the database. */
  async function stored(agencyId: string): Promise<string[]> {
    const { rows } = await t.db.query(
      'SELECT phone_number FROM dnc_numbers WHERE agency_id = $1 ORDER BY phone_number',
      [agencyId],
    );
    return rows.map((r: { phone_number: string }) => r.phone_number);
  }

  /** Every page of the list, following next_cursor. */
  async function allPages(auth: string, limit: number): Promise<{ rows: DncRow[]; pages: number }> {
    const rows: DncRow[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await list(auth, { limit, ...(cursor ? { cursor } : {}) }).expect(200);
      pages += 1;
      expect(res.body.data.length).toBeLessThanOrEqual(limit);
      rows.push(...(res.body.data as DncRow[]));
      cursor = res.body.next_cursor ?? undefined;
    } while (cursor);
    return { rows, pages };
  }

  describe('POST /api/v1/dnc', () => {
    let agency: TestAgency;
    beforeAll(async () => {
      agency = await createAgency(t, 'Bulk agency');
    });

    it('counts duplicates inside the request once and already-listed numbers as already_listed', async () => {
      const first = await add(agency.owner.auth, {
        numbers: ['+15550100001', '+15550100002', '+15550100001'],
        reason: 'asked not to be called',
      });
      expect(first.status).toBe(200);
      expect(first.body).toEqual({ success: true, added: 2, already_listed: 0 });

      const second = await add(agency.admin.auth, {
        numbers: ['+15550100002', '+15550100003', '+15550100003', '+15550100001'],
      }).expect(200);
      expect(second.body).toEqual({ success: true, added: 1, already_listed: 2 });

      expect(await stored(agency.agencyId)).toEqual(['+15550100001', '+15550100002', '+15550100003']);
      // An already-listed number keeps the reason it was listed with.
      const kept = await list(agency.owner.auth, { phone: '+15550100002' }).expect(200);
      expect(kept.body.data).toEqual([
        { phone_number: '+15550100002', reason: 'asked not to be called', created_at: expect.any(String) },
      ]);
    });

    it('stores formatted international numbers as E.164, and counts them as the same number', async () => {
      const res = await add(agency.owner.auth, {
        numbers: ['+1 (555) 010-0101', '+1 555.010.0101', '+15550100102', '  +1 555 010 0102 '],
      }).expect(200);
      expect(res.body).toEqual({ success: true, added: 2, already_listed: 0 });
      const rows = await stored(agency.agencyId);
      expect(rows).toEqual(expect.arrayContaining(['+15550100101', '+15550100102']));
      expect(rows.every((phone) => /^\+\d+$/.test(phone))).toBe(true);
    });

    it('an invalid number answers 400 naming each bad element (numbers[i]) and lists nothing', async () => {
      const fresh = await createAgency(t);
      const res = await add(fresh.owner.auth, {
        numbers: ['+15550100201', '15550100202', '+15550100203', '+1555', 15550100205, 'call me', null],
      });
      expectValidationFailed(res, 'numbers[1]', 'numbers[3]', 'numbers[4]', 'numbers[5]', 'numbers[6]');
      expect(res.body.error.details[0]).toEqual({
        field: 'numbers[1]',
        message: expect.stringContaining('E.164'),
      });
      expect(await stored(fresh.agencyId)).toEqual([]);
    });

    it('a 10,000-number request with every number bad lists the first 100 details and says how many', async () => {
      const fresh = await createAgency(t);
      const numbers = Array.from({ length: 10_000 }, (_, i) => `555${i}`);
      const res = await add(fresh.owner.auth, { numbers });
      expect(res.status).toBe(400);
      expect(res.body).toEqual(errorBody('validation_failed'));
      expect(res.body.error.details).toHaveLength(100);
      expect(res.body.error.details[99].field).toBe('numbers[99]');
      expect(res.body.error.message).toContain('10000');
      expect(await stored(fresh.agencyId)).toEqual([]);
    });

    it.each([
      ['numbers missing', { reason: 'x' }, ['numbers']],
      ['numbers empty', { numbers: [] }, ['numbers']],
      ['numbers not an array', { numbers: '+15550100301' }, ['numbers']],
      ['more than 10,000 numbers', { numbers: numbersFrom(100_000, 10_001) }, ['numbers']],
      ['reason longer than 200', { numbers: ['+15550100301'], reason: 'x'.repeat(201) }, ['reason']],
      ['reason not a string', { numbers: ['+15550100301'], reason: 42 }, ['reason']],
      ['an unknown field', { numbers: ['+15550100301'], source: 'crm' }, ['source']],
    ])('400 validation_failed: %s', async (_, body, fields) => {
      const fresh = await createAgency(t);
      expectValidationFailed(await add(fresh.owner.auth, body), ...fields);
      expect(await stored(fresh.agencyId)).toEqual([]);
    });

    it('accepts exactly 10,000 numbers in one request', async () => {
      const fresh = await createAgency(t);
      const numbers = numbersFrom(200_000, 10_000);
      const res = await add(fresh.owner.auth, { numbers }).expect(200);
      expect(res.body).toEqual({ success: true, added: 10_000, already_listed: 0 });
      const again = await add(fresh.owner.auth, { numbers: numbers.slice(0, 3) }).expect(200);
      expect(again.body).toEqual({ success: true, added: 0, already_listed: 3 });
      expect(await stored(fresh.agencyId)).toHaveLength(10_000);
    });
  });

  describe('GET /api/v1/dnc', () => {
    let agency: TestAgency;
    /** Newest first: the bulk batch (one created_at, so ordered by number descending), then the singles. */
    let expected: string[];

    beforeAll(async () => {
      agency = await createAgency(t, 'List agency');
      const singles = numbersFrom(300_000, 3);
      for (const phone of singles) {
        await add(agency.owner.auth, { numbers: [phone], reason: `single ${phone}` }).expect(200);
      }
      const batch = numbersFrom(300_100, 5);
      await add(agency.owner.auth, { numbers: batch }).expect(200);
      expected = [...[...batch].reverse(), ...[...singles].reverse()];
    });

    it('answers {success, data: [{phone_number, reason, created_at}], next_cursor}, newest first', async () => {
      const res = await list(agency.owner.auth).expect(200);
      expect(res.body).toEqual({ success: true, data: expect.any(Array), next_cursor: null });
      expect(res.body.data.map((r: DncRow) => r.phone_number)).toEqual(expected);
      expect(res.body.data.at(-1)).toEqual({
        phone_number: '+15550300000',
        reason: 'single +15550300000',
        created_at: expect.any(String),
      });
      expect(res.body.data[0].reason).toBeNull();
      expect(Number.isNaN(Date.parse(res.body.data[0].created_at))).toBe(false);
    });

    it.each([1, 2, 3, 7])(
      'pages of %i visit every number once, in order, across the shared created_at',
      async (limit) => {
        const { rows, pages } = await allPages(agency.owner.auth, limit);
        expect(rows.map((r) => r.phone_number)).toEqual(expected);
        expect(pages).toBe(Math.ceil(expected.length / limit));
      },
    );

    it('a page stays stable while newer numbers are added', async () => {
      const fresh = await createAgency(t);
      await add(fresh.owner.auth, { numbers: numbersFrom(310_000, 4) }).expect(200);
      const first = await list(fresh.owner.auth, { limit: 2 }).expect(200);
      await add(fresh.owner.auth, { numbers: numbersFrom(310_100, 2) }).expect(200);
      const second = await list(fresh.owner.auth, { limit: 2, cursor: first.body.next_cursor }).expect(200);
      expect(second.body.data.map((r: DncRow) => r.phone_number)).toEqual(['+15550310001', '+15550310000']);
      expect(second.body.next_cursor).toBeNull();
    });

    it('phone checks one number: listed → one row, not listed → empty; formatted input is normalised', async () => {
      const hit = await list(agency.owner.auth, { phone: '+15550300001' }).expect(200);
      expect(hit.body).toEqual({
        success: true,
        data: [
          { phone_number: '+15550300001', reason: 'single +15550300001', created_at: expect.any(String) },
        ],
        next_cursor: null,
      });
      const formatted = await list(agency.owner.auth, { phone: '+1 (555) 030-0001' }).expect(200);
      expect(formatted.body.data.map((r: DncRow) => r.phone_number)).toEqual(['+15550300001']);
      const miss = await list(agency.owner.auth, { phone: '+15550399999' }).expect(200);
      expect(miss.body).toEqual({ success: true, data: [], next_cursor: null });
    });

    it.each([
      ['phone not E.164', { phone: '15550300001' }, 'phone'],
      ['limit above 100', { limit: 101 }, 'limit'],
      ['limit 0', { limit: 0 }, 'limit'],
      ['an unknown parameter', { status: 'x' }, 'status'],
    ])('400 validation_failed: %s', async (_, query, field) => {
      expectValidationFailed(await list(agency.owner.auth, query), field);
    });

    it.each([
      ['not base64 JSON', 'nonsense'],
      ['a forged position', Buffer.from(JSON.stringify({ t: "x'; --", p: '+1' })).toString('base64url')],
      [
        'an id cursor of another list',
        Buffer.from(JSON.stringify({ t: '2026-01-01 00:00:00+00', i: 'x' })).toString('base64url'),
      ],
    ])('400 invalid_cursor: %s', async (_, cursor) => {
      const res = await list(agency.owner.auth, { cursor });
      expect(res.status).toBe(400);
      expect(res.body).toEqual(errorBody('invalid_cursor'));
    });
  });

  describe('DELETE /api/v1/dnc/:phone', () => {
    it('removes a listed number (200 {success: true}); a second DELETE answers 404 dnc_number_not_found', async () => {
      const agency = await createAgency(t);
      await add(agency.owner.auth, { numbers: ['+15550400001', '+15550400002'] }).expect(200);
      const res = await remove(agency.admin.auth, '+15550400001');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ success: true });
      expect(await stored(agency.agencyId)).toEqual(['+15550400002']);
      const again = await remove(agency.owner.auth, '+15550400001');
      expect(again.status).toBe(404);
      expect(again.body).toEqual(errorBody('dnc_number_not_found'));
      expect((await list(agency.owner.auth, { phone: '+15550400001' }).expect(200)).body.data).toEqual([]);
    });

    it('accepts a URL-encoded formatted number', async () => {
      const agency = await createAgency(t);
      await add(agency.owner.auth, { numbers: ['+15550400003'] }).expect(200);
      await remove(agency.owner.auth, '+1 (555) 040-0003').expect(200);
      expect(await stored(agency.agencyId)).toEqual([]);
    });

    it.each([
      ['without a plus', '15550400004'],
      ['too short', '+1555'],
      ['letters', 'call-me'],
    ])('a malformed number (%s) answers 400 validation_failed naming phone', async (_, phone) => {
      const agency = await createAgency(t);
      expectValidationFailed(await remove(agency.owner.auth, phone), 'phone');
    });
  });

  describe('who may call', () => {
    it('members read (200) but may not add or remove (403); nothing changes', async () => {
      const agency = await createAgency(t);
      await add(agency.owner.auth, { numbers: ['+15550500001'] }).expect(200);
      const listed = await list(agency.member.auth).expect(200);
      expect(listed.body.data.map((r: DncRow) => r.phone_number)).toEqual(['+15550500001']);

      const adding = await add(agency.member.auth, { numbers: ['+15550500002'] });
      expect(adding.status).toBe(403);
      expect(adding.body.success).toBe(false);
      const removing = await remove(agency.member.auth, '+15550500001');
      expect(removing.status).toBe(403);
      expect(removing.body.success).toBe(false);
      expect(await stored(agency.agencyId)).toEqual(['+15550500001']);
    });

    it('the agency API key adds, lists and removes', async () => {
      const agency = await createAgency(t);
      const auth = `Bearer ${await generateApiKey(t, agency.owner)}`;
      await add(auth, { numbers: ['+15550500101'], reason: 'from the CRM' }).expect(200);
      const res = await list(auth).expect(200);
      expect(res.body.data).toEqual([
        { phone_number: '+15550500101', reason: 'from the CRM', created_at: expect.any(String) },
      ]);
      await remove(auth, '+15550500101').expect(200);
      expect(await stored(agency.agencyId)).toEqual([]);
    });

    it('no Authorization answers 401 on every route', async () => {
      for (const res of [
        await api().get('/api/v1/dnc'),
        await api()
          .post('/api/v1/dnc')
          .send({ numbers: ['+15550500201'] }),
        await api().delete('/api/v1/dnc/%2B15550500201'),
      ]) {
        expect(res.status).toBe(401);
        expect(res.body).toEqual(errorBody('unauthorized'));
      }
    });

    it("agency B never sees, checks or removes agency A's numbers", async () => {
      const a = await createAgency(t, 'A');
      const b = await createAgency(t, 'B');
      await add(a.owner.auth, { numbers: ['+15550500301'], reason: 'secret reason of A' }).expect(200);

      const listed = await list(b.owner.auth).expect(200);
      expect(listed.body).toEqual({ success: true, data: [], next_cursor: null });
      expect((await list(b.owner.auth, { phone: '+15550500301' }).expect(200)).body.data).toEqual([]);
      const removing = await remove(b.owner.auth, '+15550500301');
      expect(removing.status).toBe(404);
      expect(JSON.stringify(removing.body)).not.toContain('secret reason of A');
      expect(await stored(a.agencyId)).toEqual(['+15550500301']);

      // B listing the same number is its own entry, not A's.
      expect((await add(b.owner.auth, { numbers: ['+15550500301'] }).expect(200)).body).toEqual({
        success: true,
        added: 1,
        already_listed: 0,
      });
    });
  });

  describe('POST /api/trigger-call to a listed number', () => {
    it('answers 422 number_on_dnc, stores and dials nothing; after DELETE the same request is placed', async () => {
      const agency = await callingAgency(t);
      // Listed as typed, formatted on purpose: the list keeps the normalised number trigger-call's E.164 matches.
      await add(agency.owner.auth, {
        numbers: ['+1 (555) 060-0001'],
        reason: 'asked not to be called',
      }).expect(200);

      const body = { phone: '+15550600001', name: 'Do Not Call' };
      const refused = await trigger(t, agency.apiKey, body, 'dnc-retry-1');
      expect(refused.status).toBe(422);
      expect(refused.body).toEqual({
        success: false,
        error: {
          code: 'number_on_dnc',
          message: expect.stringContaining('+15550600001'),
          hint: expect.any(String),
        },
      });
      const { rows } = await t.db.query('SELECT count(*)::int AS n FROM calls WHERE agency_id = $1', [
        agency.agencyId,
      ]);
      expect(rows[0].n).toBe(0);

      await remove(agency.owner.auth, '+15550600001').expect(200);
      const placed = await trigger(t, agency.apiKey, body, 'dnc-retry-1');
      expect(placed.status).toBe(200);
      expect(placed.body).toEqual({
        success: true,
        call_id: expect.any(String),
        status: 'queued',
        missing_variables: [],
      });
      await waitFor(() => simCallsOf(sim, agency).length === 1, 15_000, 'the call at the simulator');
      // Every call of the agency dialed for good: the refused request never became a dial.
      expect(await dialsSettled(t, agency.agencyId)).toEqual([placed.body.call_id]);
      expect(simCallsOf(sim, agency)).toHaveLength(1);
      expect(simCallsOf(sim, agency)[0].body).toMatchObject({
        medium: { twilio: { outgoing: { to: '+15550600001' } } },
        metadata: { switchboard_call_id: placed.body.call_id },
      });
    });

    it("A's list does not block B's calls to the same number", async () => {
      const a = await callingAgency(t);
      const b = await callingAgency(t);
      await add(a.owner.auth, { numbers: ['+15550600101'] }).expect(200);

      expect((await trigger(t, a.apiKey, { phone: '+15550600101' })).status).toBe(422);
      const placed = await trigger(t, b.apiKey, { phone: '+15550600101' });
      expect(placed.status).toBe(200);
      await waitFor(() => simCallsOf(sim, b).length === 1, 15_000, "B's call at the simulator");
      await dialsSettled(t, b.agencyId);
      expect(simCallsOf(sim, a)).toHaveLength(0);
    });
  });
});
