import request from 'supertest';
import { createAgency, generateApiKey, TestAgency } from './support/fixtures';
import { startTestApp, TestApp } from './support/test-app';

describe('webhook endpoints API (CONTRACT §5.4)', () => {
  let t: TestApp;
  let a: TestAgency;
  let b: TestAgency;

  beforeAll(async () => {
    t = await startTestApp({ WEBHOOK_ALLOW_PRIVATE_URLS: 'false' });
    a = await createAgency(t, 'A');
    b = await createAgency(t, 'B');
  });
  afterAll(() => t.close());

  const create = (body: object, auth = a.owner.auth) =>
    request(t.url).post('/api/v1/webhooks').set('Authorization', auth).send(body);

  it('creates an endpoint and shows its whsec_ secret once', async () => {
    const res = await create({
      url: 'https://hooks.agency-a.test/calls',
      events: ['call.completed', 'call.failed'],
      active: true,
    }).expect(201);
    expect(res.body).toEqual({
      success: true,
      data: {
        webhookId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        url: 'https://hooks.agency-a.test/calls',
        events: ['call.completed', 'call.failed'],
        secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
        active: true,
        state: 'healthy',
        failing_since: null,
        disabled_reason: null,
        rate_limit_per_second: null,
        created_at: expect.any(String),
      },
    });
    const list = await request(t.url).get('/api/v1/webhooks').set('Authorization', a.member.auth).expect(200);
    const listed = list.body.data.find((w: { webhookId: string }) => w.webhookId === res.body.data.webhookId);
    expect(listed).toEqual({
      webhookId: res.body.data.webhookId,
      url: 'https://hooks.agency-a.test/calls',
      events: ['call.completed', 'call.failed'],
      active: true,
      state: 'healthy',
      failing_since: null,
      disabled_reason: null,
      rate_limit_per_second: null,
      created_at: expect.any(String),
    });
    expect(JSON.stringify(list.body)).not.toContain('whsec_');
  });

  it('defaults active to true and accepts every documented event', async () => {
    const events = [
      'call.started',
      'call.completed',
      'call.failed',
      'campaign.started',
      'campaign.paused',
      'campaign.finished',
    ];
    const res = await create({ url: 'https://hooks.agency-a.test/all', events }).expect(201);
    expect(res.body.data).toMatchObject({ events, active: true });
  });

  it.each([
    ['an unknown event name', { url: 'https://hooks.agency-a.test/x', events: ['call.answered'] }, 'events'],
    ['no events', { url: 'https://hooks.agency-a.test/x', events: [] }, 'events'],
    ['an http URL', { url: 'http://hooks.agency-a.test/x', events: ['call.completed'] }, 'url'],
    ['a loopback target', { url: 'https://127.0.0.1/x', events: ['call.completed'] }, 'url'],
    ['a private target', { url: 'https://192.168.1.20/x', events: ['call.completed'] }, 'url'],
    [
      'the cloud metadata address',
      { url: 'https://169.254.169.254/latest/meta-data', events: ['call.completed'] },
      'url',
    ],
    ['a unique-local IPv6 target', { url: 'https://[fd00::1]/x', events: ['call.completed'] }, 'url'],
    ['a CGNAT target', { url: 'https://100.64.1.1/x', events: ['call.completed'] }, 'url'],
    ['localhost', { url: 'https://localhost/x', events: ['call.completed'] }, 'url'],
    [
      'an unknown field',
      { url: 'https://hooks.agency-a.test/x', events: ['call.completed'], colour: 'red' },
      'colour',
    ],
  ])('answers 400 to %s', async (_, body, field) => {
    const res = await create(body).expect(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
  });

  it('lets a member read but not write', async () => {
    await create({ url: 'https://hooks.agency-a.test/m', events: ['call.completed'] }, a.member.auth).expect(
      403,
    );
    await request(t.url).get('/api/v1/webhooks').set('Authorization', a.member.auth).expect(200);
  });

  it('works with the agency API key', async () => {
    const key = await generateApiKey(t, a.owner);
    await create(
      { url: 'https://hooks.agency-a.test/key', events: ['call.completed'] },
      `Bearer ${key}`,
    ).expect(201);
  });

  it('refuses null for active, url and events (400 naming the field) and changes nothing', async () => {
    const made = await create({
      url: 'https://hooks.agency-a.test/n',
      events: ['call.completed'],
      active: null,
    });
    expect(made.status).toBe(400);
    expect(made.body.error.details).toEqual([expect.objectContaining({ field: 'active' })]);
    const { webhookId } = (
      await create({ url: 'https://hooks.agency-a.test/n', events: ['call.completed'] }).expect(201)
    ).body.data;
    for (const field of ['active', 'url', 'events']) {
      const res = await request(t.url)
        .patch(`/api/v1/webhooks/${webhookId}`)
        .set('Authorization', a.admin.auth)
        .send({ [field]: null })
        .expect(400);
      expect(res.body.error).toMatchObject({ code: 'validation_failed' });
      expect(res.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
    }
    const shown = await request(t.url)
      .get(`/api/v1/webhooks/${webhookId}`)
      .set('Authorization', a.admin.auth)
      .expect(200);
    expect(shown.body.data).toMatchObject({
      url: 'https://hooks.agency-a.test/n',
      events: ['call.completed'],
      active: true,
    });
  });

  it('updates url, events and active; rotates the secret; deletes', async () => {
    const { webhookId, secret } = (
      await create({ url: 'https://hooks.agency-a.test/u', events: ['call.completed'] }).expect(201)
    ).body.data;
    const patched = await request(t.url)
      .patch(`/api/v1/webhooks/${webhookId}`)
      .set('Authorization', a.admin.auth)
      .send({ events: ['call.failed'], active: false })
      .expect(200);
    expect(patched.body.data).toMatchObject({
      url: 'https://hooks.agency-a.test/u',
      events: ['call.failed'],
      active: false,
    });
    await request(t.url)
      .patch(`/api/v1/webhooks/${webhookId}`)
      .set('Authorization', a.admin.auth)
      .send({ url: 'http://x.test' })
      .expect(400);

    const rotated = await request(t.url)
      .post(`/api/v1/webhooks/${webhookId}/rotate-secret`)
      .set('Authorization', a.owner.auth)
      .expect(200);
    expect(rotated.body.data.secret).toMatch(/^whsec_/);
    expect(rotated.body.data.secret).not.toBe(secret);

    await request(t.url)
      .delete(`/api/v1/webhooks/${webhookId}`)
      .set('Authorization', a.owner.auth)
      .expect(200);
    await request(t.url).get(`/api/v1/webhooks/${webhookId}`).set('Authorization', a.owner.auth).expect(404);
  });

  it('agency B can neither see nor touch A’s endpoints', async () => {
    const { webhookId } = (
      await create({ url: 'https://hooks.agency-a.test/private', events: ['call.completed'] }).expect(201)
    ).body.data;
    const asB = (req: request.Test) => req.set('Authorization', b.owner.auth);
    const notFound = await asB(request(t.url).get(`/api/v1/webhooks/${webhookId}`)).expect(404);
    expect(notFound.body.error.code).toBe('webhook_not_found');
    await asB(request(t.url).patch(`/api/v1/webhooks/${webhookId}`).send({ active: false })).expect(404);
    await asB(request(t.url).delete(`/api/v1/webhooks/${webhookId}`)).expect(404);
    await asB(request(t.url).post(`/api/v1/webhooks/${webhookId}/rotate-secret`)).expect(404);
    await asB(request(t.url).post(`/api/v1/webhooks/${webhookId}/test`)).expect(404);
    await asB(request(t.url).get(`/api/v1/webhooks/${webhookId}/deliveries`)).expect(404);
    const list = await asB(request(t.url).get('/api/v1/webhooks')).expect(200);
    expect(list.body.data.map((w: { webhookId: string }) => w.webhookId)).not.toContain(webhookId);
    await request(t.url).get(`/api/v1/webhooks/${webhookId}`).set('Authorization', a.member.auth).expect(200);
  });

  it('does not list the integration page endpoint among /api/v1/webhooks', async () => {
    const c = await createAgency(t, 'C');
    await request(t.url)
      .patch('/api/v1/integrations/api')
      .set('Authorization', c.owner.auth)
      .send({ webhook_url: 'https://hooks.c.test/x' })
      .expect(200);
    const list = await request(t.url).get('/api/v1/webhooks').set('Authorization', c.owner.auth).expect(200);
    expect(list.body.data).toEqual([]);
  });
});
