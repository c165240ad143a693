import request from 'supertest';
import { createAgency, generateApiKey, TestAgency } from './support/fixtures';
import { startTestApp, TestApp } from './support/test-app';

const WINDOW = { timezone: 'Europe/Berlin', days: ['fri', 'sat'], start: '20:00', end: '02:00' };

describe('agency settings: name and agency-wide calling window', () => {
  let t: TestApp;
  let agency: TestAgency;

  beforeAll(async () => {
    t = await startTestApp();
    agency = await createAgency(t, 'Acme Calls');
  });
  afterAll(() => t.close());

  it('shows the agency to any member and to its API key', async () => {
    const res = await request(t.url)
      .get('/api/v1/agency')
      .set('Authorization', agency.member.auth)
      .expect(200);
    expect(res.body).toEqual({
      success: true,
      data: { id: agency.agencyId, name: 'Acme Calls', calling_window: null, created_at: expect.any(String) },
    });
    const key = await generateApiKey(t, agency.owner);
    await request(t.url).get('/api/v1/agency').set('Authorization', `Bearer ${key}`).expect(200);
  });

  it('an admin sets an overnight calling window and removes it again', async () => {
    const set = await request(t.url)
      .patch('/api/v1/agency')
      .set('Authorization', agency.admin.auth)
      .send({ calling_window: WINDOW })
      .expect(200);
    expect(set.body.data.calling_window).toEqual(WINDOW);
    const cleared = await request(t.url)
      .patch('/api/v1/agency')
      .set('Authorization', agency.admin.auth)
      .send({ calling_window: null })
      .expect(200);
    expect(cleared.body.data.calling_window).toBeNull();
  });

  it('refuses a member, and a window that ends when it starts', async () => {
    await request(t.url)
      .patch('/api/v1/agency')
      .set('Authorization', agency.member.auth)
      .send({ name: 'X' })
      .expect(403);
    const res = await request(t.url)
      .patch('/api/v1/agency')
      .set('Authorization', agency.owner.auth)
      .send({ calling_window: { ...WINDOW, end: '20:00' } })
      .expect(400);
    expect(res.body.error.details).toEqual([expect.objectContaining({ field: 'calling_window.end' })]);
  });

  it.each(['null', '"Acme"', '42'])(
    'refuses a JSON body of %s with 400 instead of changing nothing',
    async (body) => {
      const res = await request(t.url)
        .patch('/api/v1/agency')
        .set('Authorization', agency.owner.auth)
        .set('Content-Type', 'application/json')
        .send(body)
        .expect(400);
      expect(res.body.error).toMatchObject({ code: 'validation_failed' });
      expect(res.body.error.details).toEqual([{ field: 'body', message: 'the body must be a JSON object' }]);
    },
  );

  it('refuses name: null with 400 naming it', async () => {
    const res = await request(t.url)
      .patch('/api/v1/agency')
      .set('Authorization', agency.owner.auth)
      .send({ name: null })
      .expect(400);
    expect(res.body.error.details).toEqual([expect.objectContaining({ field: 'name' })]);
  });

  it.each([
    ['an empty array', []],
    ['an array of windows', [WINDOW]],
    ['a string', 'weekdays'],
  ])('refuses a calling window that is %s, and keeps the stored one', async (_, window) => {
    await request(t.url)
      .patch('/api/v1/agency')
      .set('Authorization', agency.owner.auth)
      .send({ calling_window: WINDOW })
      .expect(200);
    const res = await request(t.url)
      .patch('/api/v1/agency')
      .set('Authorization', agency.owner.auth)
      .send({ calling_window: window })
      .expect(400);
    expect(res.body.error).toMatchObject({ code: 'validation_failed' });
    expect(res.body.error.details).toEqual([expect.objectContaining({ field: 'calling_window' })]);
    const shown = await request(t.url)
      .get('/api/v1/agency')
      .set('Authorization', agency.owner.auth)
      .expect(200);
    expect(shown.body.data.calling_window).toEqual(WINDOW);
  });

  it('another agency sees only itself', async () => {
    const other = await createAgency(t, 'Other');
    const res = await request(t.url).get('/api/v1/agency').set('Authorization', other.owner.auth).expect(200);
    expect(res.body.data).toMatchObject({ id: other.agencyId, name: 'Other' });
  });
});
