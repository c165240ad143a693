import request from 'supertest';
import { errorBody } from './support/errors';
import { createAgency, generateApiKey, TestAgency } from './support/fixtures';
import { startTestApp, TestApp } from './support/test-app';

const rows = <T>(count: number, listed: T[]) => ({ count, rows: listed, truncated: false });

describe('campaign contacts: import (CSV and JSON) and list', () => {
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

  async function newCampaign(auth = key()): Promise<string> {
    const res = await api().post('/api/v1/campaigns').set('Authorization', auth).send({ name: 'Spring' });
    expect(res.status).toBe(201);
    return res.body.data.id as string;
  }
  const importCsv = (id: string, csv: string, auth = key()) =>
    api()
      .post(`/api/v1/campaigns/${id}/contacts`)
      .set('Authorization', auth)
      .set('Content-Type', 'text/csv')
      .send(csv);
  const importJson = (id: string, body: unknown, auth = key()) =>
    api()
      .post(`/api/v1/campaigns/${id}/contacts`)
      .set('Authorization', auth)
      .send(body as object);
  const listContacts = (id: string, query: Record<string, string | number> = {}, auth = key()) =>
    api().get(`/api/v1/campaigns/${id}/contacts`).query(query).set('Authorization', auth);
  const storedCount = async (id: string) =>
    (
      await t.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM campaign_contacts WHERE campaign_id = $1',
        [id],
      )
    ).rows[0].n;

  it('imports a CSV: reports accepted, duplicate and rejected rows, and stores the extra columns as variables', async () => {
    const id = await newCampaign();
    const csv = [
      'Phone,Name,EMAIL,Company,Plan,Notes',
      '+15551230001,Ada Lovelace,ada@example.com,Analytical,gold,"likes ""math"", and tea"',
      '+1 (555) 123-0002,Grace,,Navy,,',
      '+15551230001,Ada again,ada2@example.com,Analytical,,',
      '5551230003,No plus,,,,',
      '+15551230004,Bad mail,not-an-email,,,',
      ',Nobody,,,,',
      '+15551230005,,,,silver',
    ].join('\n');
    const res = await importCsv(id, csv);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      success: true,
      data: {
        accepted: 3,
        duplicates: rows(1, [{ row: 3, phone: '+15551230001' }]),
        rejected: rows(3, [
          { row: 4, reason: 'phone is not an E.164 number' },
          { row: 5, reason: 'email is not an email address' },
          { row: 6, reason: 'phone is missing' },
        ]),
        skipped_dnc: rows(0, []),
        missing_variables: rows(0, []),
      },
    });

    const list = await listContacts(id).expect(200);
    expect(list.body.next_cursor).toBeNull();
    expect(list.body.data).toEqual([
      {
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        row_number: 1,
        phone_number: '+15551230001',
        name: 'Ada Lovelace',
        email: 'ada@example.com',
        variables: { Company: 'Analytical', Plan: 'gold', Notes: 'likes "math", and tea' },
        status: 'pending',
        attempts: 0,
        last_outcome: null,
        last_call_id: null,
        next_attempt_at: expect.any(String),
        created_at: expect.any(String),
      },
      expect.objectContaining({
        row_number: 2,
        phone_number: '+15551230002',
        name: 'Grace',
        email: null,
        variables: { Company: 'Navy' },
      }),
      expect.objectContaining({
        row_number: 7,
        phone_number: '+15551230005',
        name: null,
        variables: { Plan: 'silver' },
      }),
    ]);

    // A second import: numbers the campaign already has are duplicates; new ones come after the first import.
    const again = await importCsv(id, 'phone_number,name\n+15551230002,Grace\n+15551230006,Linus\n');
    expect(again.status).toBe(200);
    expect(again.body.data).toEqual({
      accepted: 1,
      duplicates: rows(1, [{ row: 1, phone: '+15551230002' }]),
      rejected: rows(0, []),
      skipped_dnc: rows(0, []),
      missing_variables: rows(0, []),
    });
    const after = await listContacts(id).expect(200);
    expect(after.body.data.map((c: { phone_number: string }) => c.phone_number)).toEqual([
      '+15551230001',
      '+15551230002',
      '+15551230005',
      '+15551230006',
    ]);
  });

  it('imports a JSON array: other fields become string variables, bad elements are rejected rows', async () => {
    const id = await newCampaign(agency.admin.auth);
    const res = await importJson(
      id,
      [
        { phone: '+447700900001', name: 'Alan', email: 'alan@example.co.uk', tier: 2, vip: true, note: null },
        { Phone: '+447700900001', name: 'Alan twice' },
        'not an object',
        { phone: '+447700900002', address: { city: 'London' } },
        { phone: 'call me', email: 'nope' },
        { phone_number: '+447700900003' },
      ],
      agency.admin.auth,
    );
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({
      accepted: 2,
      duplicates: rows(1, [{ row: 2, phone: '+447700900001' }]),
      rejected: rows(3, [
        { row: 3, reason: 'row is not a JSON object' },
        { row: 4, reason: 'address must be a string, number or boolean' },
        { row: 5, reason: 'phone is not an E.164 number; email is not an email address' },
      ]),
      skipped_dnc: rows(0, []),
      missing_variables: rows(0, []),
    });
    const list = await listContacts(id).expect(200);
    expect(list.body.data).toEqual([
      expect.objectContaining({
        row_number: 1,
        phone_number: '+447700900001',
        name: 'Alan',
        email: 'alan@example.co.uk',
        variables: { tier: '2', vip: 'true' },
      }),
      expect.objectContaining({ row_number: 6, phone_number: '+447700900003', variables: {} }),
    ]);
  });

  it('a JSON body that is not an array is a 400; JSON over 1 MB is fine on this route', async () => {
    const id = await newCampaign();
    const res = await importJson(id, { phone: '+15551230001' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual(errorBody('validation_failed'));
    expect(res.body.error.details).toEqual([
      { field: 'body', message: expect.stringContaining('JSON array') },
    ]);

    const big = Array.from({ length: 20_000 }, (_, i) => ({
      phone: `+4477009${String(i).padStart(5, '0')}`,
      note: 'x'.repeat(40),
    }));
    const ok = await importJson(id, big);
    expect(ok.status).toBe(200);
    expect(ok.body.data.accepted).toBe(20_000);
  });

  it('numbers on the agency’s do-not-call list are skipped, reported and not stored', async () => {
    await api()
      .post('/api/v1/dnc')
      .set('Authorization', key())
      .send({ numbers: ['+15559870001', '+15559870003'] })
      .expect(200);
    const id = await newCampaign();
    const res = await importCsv(id, 'phone\n+15559870001\n+15559870002\n+1 555 987 0003\n+15559870001\n');
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({
      accepted: 1,
      duplicates: rows(1, [{ row: 4, phone: '+15559870001' }]),
      rejected: rows(0, []),
      skipped_dnc: rows(2, [
        { row: 1, phone: '+15559870001' },
        { row: 3, phone: '+15559870003' },
      ]),
      missing_variables: rows(0, []),
    });
    const list = await listContacts(id).expect(200);
    expect(list.body.data.map((c: { phone_number: string }) => c.phone_number)).toEqual(['+15559870002']);
  });

  it('over 100,000 rows answers 413 too_many_rows and keeps nothing', async () => {
    const id = await newCampaign();
    const lines = ['phone,name'];
    for (let i = 0; i <= 100_000; i += 1) lines.push(`+4477${String(i).padStart(8, '0')},n${i}`);
    const res = await importCsv(id, lines.join('\n'));
    expect(res.status).toBe(413);
    expect(res.body).toEqual(errorBody('too_many_rows'));
    expect(await storedCount(id)).toBe(0);

    const json = await importJson(
      id,
      Array.from({ length: 100_001 }, (_, i) => ({ phone: `+4477${String(i).padStart(8, '0')}` })),
    );
    expect(json.status).toBe(413);
    expect(json.body).toEqual(errorBody('too_many_rows'));
    expect(await storedCount(id)).toBe(0);
  });

  it('lists at most 1,000 rows per kind, with exact counts and truncated: true', async () => {
    const id = await newCampaign();
    const csv = ['phone', ...Array.from({ length: 1_500 }, (_, i) => `bad-${i}`), '+15551230001'].join('\n');
    const res = await importCsv(id, csv);
    expect(res.status).toBe(200);
    expect(res.body.data.accepted).toBe(1);
    expect(res.body.data.rejected.count).toBe(1_500);
    expect(res.body.data.rejected.truncated).toBe(true);
    expect(res.body.data.rejected.rows).toHaveLength(1_000);
    expect(res.body.data.rejected.rows.at(-1)).toEqual({
      row: 1_000,
      reason: 'phone is not an E.164 number',
    });
  });

  it('a CSV without a phone column is a 400 invalid_csv that says so', async () => {
    const id = await newCampaign();
    const res = await importCsv(id, 'name,email\nAda,ada@example.com\n');
    expect(res.status).toBe(400);
    expect(res.body).toEqual(errorBody('invalid_csv', 'The CSV has no phone column'));
    expect(res.body.error.hint).toContain('found: name, email');

    const empty = await importCsv(id, '');
    expect(empty.status).toBe(400);
    expect(empty.body).toEqual(errorBody('invalid_csv', 'The CSV is empty'));
  });

  it('a malformed CSV is a 400 invalid_csv naming the line, and keeps nothing', async () => {
    const id = await newCampaign();
    const res = await importCsv(
      id,
      'phone,name\n+15551230001,Ada\n+15551230002,"Grace\n+15551230003,Linus\n',
    );
    expect(res.status).toBe(400);
    expect(res.body).toEqual(
      errorBody(
        'invalid_csv',
        'Malformed CSV: the row starting on line 3 opens a quote that is never closed',
      ),
    );
    expect(await storedCount(id)).toBe(0);
  });

  it('a BOM and CRLF line ends are fine; blank lines are skipped and not counted', async () => {
    const id = await newCampaign();
    const csv =
      '\uFEFFphone,name,city\r\n+15551230001,Ada,London\r\n\r\n,,\r\n+15551230002,"Grace\r\nHopper",\r\n';
    const res = await importCsv(id, csv);
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ accepted: 2, rejected: rows(0, []) });
    const list = await listContacts(id).expect(200);
    expect(list.body.data).toEqual([
      expect.objectContaining({ row_number: 1, name: 'Ada', variables: { city: 'London' } }),
      expect.objectContaining({ row_number: 2, name: 'Grace\r\nHopper', variables: {} }),
    ]);
  });

  it('a canceled campaign takes no contacts (409 campaign_closed)', async () => {
    const id = await newCampaign();
    await api().post(`/api/v1/campaigns/${id}/cancel`).set('Authorization', key()).expect(200);
    const res = await importCsv(id, 'phone\n+15551230001\n');
    expect(res.status).toBe(409);
    expect(res.body).toEqual(errorBody('campaign_closed', 'A canceled campaign takes no more contacts'));
    expect(await storedCount(id)).toBe(0);
  });

  it('members may list but not import; another agency sees 404', async () => {
    const id = await newCampaign();
    await importCsv(id, 'phone\n+15551230001\n').expect(200);
    const denied = await importCsv(id, 'phone\n+15551230002\n', agency.member.auth);
    expect(denied.status).toBe(403);
    const denial = await importJson(id, [{ phone: '+15551230002' }], agency.member.auth);
    expect(denial.status).toBe(403);
    expect((await listContacts(id, {}, agency.member.auth).expect(200)).body.data).toHaveLength(1);

    const b = await createAgency(t, 'B');
    const csv = await importCsv(id, 'phone\n+15551230003\n', b.owner.auth);
    expect(csv.status).toBe(404);
    expect(csv.body).toEqual(errorBody('campaign_not_found'));
    await importJson(id, [{ phone: '+15551230003' }], b.owner.auth).expect(404);
    await listContacts(id, {}, b.owner.auth).expect(404);
    expect(await storedCount(id)).toBe(1);
  });

  it('lists contacts in import order, filtered by status or phone, page by page', async () => {
    const id = await newCampaign();
    const csv = ['phone', ...Array.from({ length: 7 }, (_, i) => `+1555124000${i}`)].join('\n');
    await importCsv(id, csv).expect(200);
    await t.db.query(
      `UPDATE campaign_contacts SET status = 'completed', attempts = 1, last_outcome = 'completed'
        WHERE campaign_id = $1 AND row_number IN (2, 4, 5)`,
      [id],
    );

    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page = await listContacts(id, { limit: 3, ...(cursor ? { cursor } : {}) }).expect(200);
      seen.push(...page.body.data.map((c: { row_number: number }) => c.row_number));
      cursor = page.body.next_cursor as string | null;
    } while (cursor);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7]);

    const completed = await listContacts(id, { status: 'completed', limit: 2 }).expect(200);
    expect(completed.body.data).toEqual([
      expect.objectContaining({ row_number: 2, status: 'completed', attempts: 1, last_outcome: 'completed' }),
      expect.objectContaining({ row_number: 4, status: 'completed' }),
    ]);
    const rest = await listContacts(id, { status: 'completed', cursor: completed.body.next_cursor }).expect(
      200,
    );
    expect(rest.body.data.map((c: { row_number: number }) => c.row_number)).toEqual([5]);
    expect(rest.body.next_cursor).toBeNull();

    const one = await listContacts(id, { phone: '+15551240003' }).expect(200);
    expect(one.body.data).toEqual([expect.objectContaining({ row_number: 4 })]);

    await listContacts(id, { status: 'done' }).expect(400);
    const badCursor = await listContacts(id, { cursor: 'nope' });
    expect(badCursor.status).toBe(400);
    expect(badCursor.body).toEqual(errorBody('invalid_cursor'));
  });

  it('a form-encoded body is refused (415) and creates nothing: JSON routes take JSON only', async () => {
    const before = await t.db.query('SELECT count(*)::int AS n FROM campaigns');
    const res = await request(t.url)
      .post('/api/v1/campaigns')
      .set('Authorization', `Bearer ${apiKey}`)
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .send('name=x');
    expect(res.status).toBe(415);
    expect(res.body).toEqual(errorBody('unsupported_media_type'));
    const after = await t.db.query('SELECT count(*)::int AS n FROM campaigns');
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it('text/csv is refused (415) by routes other than the import', async () => {
    const res = await api()
      .post('/api/v1/campaigns')
      .set('Authorization', key())
      .set('Content-Type', 'text/csv')
      .send('name\nSpring\n');
    expect(res.status).toBe(415);
    expect(res.body).toEqual(errorBody('unsupported_media_type'));
  });
});
