import request from 'supertest';
import { UltravoxAccountMonitor } from '../src/integrations/ultravox-account-monitor';
import { ULTRAVOX_WEBHOOK_EVENTS } from '../src/integrations/ultravox-webhook-registrar';
import { UltravoxSim } from '../tools/ultravox-sim/server';
import { callingAgency, simCallsOf, subscribe, trigger } from './support/call-fixtures';
import { startCallingStack, stopCallingStack } from './support/calling-stack';
import { createAgency, TestAgency, ultravoxKey } from './support/fixtures';
import { Receiver } from './support/receiver';
import { TestApp } from './support/test-app';
import { waitFor } from './support/wait';

type Payload = { event: string; call_id: string };
type WebhookHealth = {
  webhook_id: string;
  status: string;
  last_known_status: string | null;
  recent_failures: { at: string | null; detail: string | null }[];
  checked_at: string | null;
  live: boolean;
  problem: string | null;
  reregistered_at: string | null;
};
type Integration = {
  webhook_url: string;
  ultravox_webhook: WebhookHealth | null;
  allowed_concurrent_calls: number | null;
  effective_concurrent_calls: number;
  account_checked_at: string | null;
  key_rejected_at: string | null;
};

const integrationOf = async (t: TestApp, auth: string): Promise<Integration> =>
  (await request(t.url).get('/api/v1/integrations/ultravox').set('Authorization', auth).expect(200)).body
    .data as Integration;

/** POST /functions/v1/save-ultravox-integration as the agency's owner. */
const saveKey = (t: TestApp, agency: TestAgency, body: object) =>
  request(t.url)
    .post('/functions/v1/save-ultravox-integration')
    .set('Authorization', agency.owner.auth)
    .send(body)
    .expect(200);

const webhooksOf = (sim: UltravoxSim, key: string) =>
  sim.calls().accounts.find((account) => account.keyPrefix === key.slice(0, 8))?.webhooks ?? [];

const received = (receiver: Receiver, callId: string, event: string) =>
  waitFor(
    () =>
      receiver.received
        .map((r) => JSON.parse(r.body) as Payload)
        .find((p) => p.call_id === callId && p.event === event),
    20_000,
    `${event} for ${callId}`,
  );

describe('a deleted Ultravox webhook is registered again by the workers (issue 13, point 2)', () => {
  let sim: UltravoxSim;
  let t: TestApp;
  let receiver: Receiver;

  beforeAll(async () => {
    ({ sim, t, receiver } = await startCallingStack(
      { timeScale: 0.02 },
      { ULTRAVOX_WEBHOOK_CHECK_INTERVAL: '1s' },
    ));
  });
  afterAll(() => stopCallingStack({ sim, t, receiver }));

  it('registers it again with the same URL, events and secret, shows it on the GET, and calls end again', async () => {
    const agency = await callingAgency(t);
    await subscribe(t, agency, `${receiver.url}/calls`);
    const [original] = webhooksOf(sim, agency.ultravoxKey);
    const before = await integrationOf(t, agency.member.auth);
    expect(before.ultravox_webhook).toMatchObject({
      webhook_id: original.webhookId,
      status: 'normal',
      live: true,
      reregistered_at: null,
    });

    sim.deleteWebhook(original.webhookId);
    const [again] = await waitFor(
      () => {
        const hooks = webhooksOf(sim, agency.ultravoxKey);
        return hooks.length === 1 && hooks[0].webhookId !== original.webhookId && hooks;
      },
      20_000,
      'a new webhook for the ingest URL',
    );
    expect(again).toMatchObject({ url: original.url, events: original.events, secrets: original.secrets });
    expect(again.url).toBe(before.webhook_url);

    const after = await waitFor(
      async () => {
        const now = await integrationOf(t, agency.member.auth);
        return now.ultravox_webhook?.webhook_id === again.webhookId && now;
      },
      10_000,
      'the GET to show the new webhook',
    );
    expect(after.ultravox_webhook).toMatchObject({
      status: 'normal',
      live: true,
      problem: null,
      reregistered_at: expect.any(String),
    });

    const callId = (await trigger(t, agency.apiKey, { phone: '+15557770101' }).expect(200)).body
      .call_id as string;
    await received(receiver, callId, 'call.completed');
    expect(sim.deliveries().filter((d) => d.webhookId === again.webhookId && d.status === 204)).not.toEqual(
      [],
    );
  });
});

describe('Ultravox webhook health and the account’s concurrent calls (issue 13, points 2 and 6)', () => {
  let sim: UltravoxSim;
  let t: TestApp;
  let receiver: Receiver;

  beforeAll(async () => {
    // The default interval, named: the workers look only when a test moves the clock.
    ({ sim, t, receiver } = await startCallingStack(
      { timeScale: 0.05 },
      { MAX_CONCURRENT_CALLS_PER_AGENCY: '5', ULTRAVOX_WEBHOOK_CHECK_INTERVAL: '5m' },
    ));
  });
  afterEach(() => t.clock.release());
  afterAll(() => stopCallingStack({ sim, t, receiver }));

  /** One pass of the workers' check with the app's clock this far ahead. */
  const checkAt = async (aheadMs: number) => {
    t.clock.freeze(Date.now() + aheadMs);
    await t.app.get(UltravoxAccountMonitor).sweep();
  };
  const requestsOf = (key: string, path: string) =>
    sim.requests().filter((r) => r.headers['x-api-key'] === key.slice(0, 8) && r.path === path);
  const MIN = 60_000;

  it('reports the webhook normal, unhealthy when Ultravox cannot deliver to it, and missing once deleted', async () => {
    const agency = await callingAgency(t);
    const [hook] = webhooksOf(sim, agency.ultravoxKey);
    expect((await integrationOf(t, agency.member.auth)).ultravox_webhook).toMatchObject({
      webhook_id: hook.webhookId,
      status: 'normal',
      last_known_status: 'normal',
      recent_failures: [],
      live: true,
      checked_at: expect.any(String),
    });

    // Someone changes the webhook's secret in the Ultravox console: ingest refuses every delivery.
    await fetch(`${sim.url}/api/webhooks/${hook.webhookId}`, {
      method: 'PATCH',
      headers: { 'x-api-key': agency.ultravoxKey, 'content-type': 'application/json' },
      body: JSON.stringify({ secrets: ['not-the-agency-secret'] }),
    });
    await trigger(t, agency.apiKey, { phone: '+15557770202' }).expect(200);
    await waitFor(() => webhooksOf(sim, agency.ultravoxKey)[0]?.status === 'unhealthy', 20_000, 'unhealthy');
    const unhealthy = (await integrationOf(t, agency.member.auth)).ultravox_webhook;
    expect(unhealthy).toMatchObject({ status: 'unhealthy', live: true });
    expect(unhealthy?.recent_failures.length).toBeGreaterThanOrEqual(3);
    expect(unhealthy?.recent_failures[0]).toEqual({ at: expect.any(String), detail: 'HTTP 401' });

    sim.deleteWebhook(hook.webhookId);
    expect((await integrationOf(t, agency.member.auth)).ultravox_webhook).toMatchObject({
      webhook_id: hook.webhookId,
      status: 'missing',
      live: true,
    });
  });

  it('a webhook changed in the Ultravox console (URL, events) is put back by the workers, same id', async () => {
    const agency = await callingAgency(t);
    await subscribe(t, agency, `${receiver.url}/drift`);
    const [hook] = webhooksOf(sim, agency.ultravoxKey);
    const { url } = hook;
    await fetch(`${sim.url}/api/webhooks/${hook.webhookId}`, {
      method: 'PATCH',
      headers: { 'x-api-key': agency.ultravoxKey, 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'http://127.0.0.1:9/elsewhere', events: ['call.ended'] }),
    });
    await checkAt(6 * MIN);
    const [after] = webhooksOf(sim, agency.ultravoxKey);
    expect(after).toMatchObject({ webhookId: hook.webhookId, url, events: ULTRAVOX_WEBHOOK_EVENTS });
    expect((await integrationOf(t, agency.member.auth)).ultravox_webhook).toMatchObject({
      webhook_id: hook.webhookId,
      status: 'normal',
      reregistered_at: expect.any(String),
    });
    t.clock.release();
    const callId = (await trigger(t, agency.apiKey, { phone: '+15557770404' }).expect(200)).body
      .call_id as string;
    await received(receiver, callId, 'call.completed');
  });

  it('says unknown, with the last finding, when Ultravox does not answer in time; the GET still answers', async () => {
    const agency = await callingAgency(t);
    const [hook] = webhooksOf(sim, agency.ultravoxKey);
    sim.addFault({ method: 'GET', path: `/api/webhooks/${hook.webhookId}`, status: 200, delayMs: 10_000 });
    expect((await integrationOf(t, agency.member.auth)).ultravox_webhook).toMatchObject({
      webhook_id: hook.webhookId,
      status: 'unknown',
      last_known_status: 'normal',
      checked_at: expect.any(String),
      live: false,
      problem: expect.stringMatching(/could not be asked/),
    });
    sim.clearFaults();
  });

  it('shows no Ultravox webhook for an agency that did not register one', async () => {
    const agency = await createAgency(t);
    await saveKey(t, agency, { api_key: ultravoxKey() });
    expect((await integrationOf(t, agency.member.auth)).ultravox_webhook).toBeNull();
  });

  it('the account’s allowedConcurrentCalls lowers the live-call cap: one call dials at a time', async () => {
    const agency = await callingAgency(t);
    await subscribe(t, agency, `${receiver.url}/cap`);
    expect(await integrationOf(t, agency.member.auth)).toMatchObject({
      allowed_concurrent_calls: 5,
      effective_concurrent_calls: 5,
    });
    sim.setAllowedConcurrentCalls(agency.ultravoxKey, 1);
    // Saving the key again reads the account at once.
    await saveKey(t, agency, { api_key: agency.ultravoxKey, register_webhook: true });
    expect(await integrationOf(t, agency.member.auth)).toMatchObject({
      allowed_concurrent_calls: 1,
      effective_concurrent_calls: 1,
      account_checked_at: expect.any(String),
    });

    const ids: string[] = [];
    for (const phone of ['+15557770301', '+15557770302', '+15557770303']) {
      ids.push((await trigger(t, agency.apiKey, { phone }).expect(200)).body.call_id as string);
    }
    for (const id of ids) await received(receiver, id, 'call.completed');
    const account = sim.calls().accounts.find((a) => a.keyPrefix === agency.ultravoxKey.slice(0, 8));
    expect(account?.maxConcurrentLive).toBe(1);
    // Switchboard held the others back itself: Ultravox was asked to create exactly the three calls,
    // none of them refused with a 429.
    expect(simCallsOf(sim, agency)).toHaveLength(3);
  });

  it('the workers refresh the limit every ULTRAVOX_WEBHOOK_CHECK_INTERVAL; MAX_CONCURRENT_CALLS_PER_AGENCY still bounds it', async () => {
    const agency = await callingAgency(t);
    sim.setAllowedConcurrentCalls(agency.ultravoxKey, 2);
    await checkAt(6 * MIN);
    expect(await integrationOf(t, agency.member.auth)).toMatchObject({
      allowed_concurrent_calls: 2,
      effective_concurrent_calls: 2,
    });
    sim.setAllowedConcurrentCalls(agency.ultravoxKey, 50);
    await checkAt(12 * MIN);
    expect(await integrationOf(t, agency.member.auth)).toMatchObject({
      allowed_concurrent_calls: 50,
      effective_concurrent_calls: 5,
    });
  });

  it('a 429 puts the agency off by Retry-After, while the other agencies are still checked', async () => {
    const slow = await callingAgency(t);
    const other = await callingAgency(t);
    sim.addFault({
      path: '/api/accounts/me',
      keyPrefix: slow.ultravoxKey.slice(0, 8),
      status: 429,
      headers: { 'Retry-After': '1200' },
    });
    sim.setAllowedConcurrentCalls(other.ultravoxKey, 3);
    await checkAt(6 * MIN);
    expect(await integrationOf(t, slow.member.auth)).toMatchObject({
      ultravox_webhook: expect.objectContaining({ status: 'normal' }),
    });
    const slowAfter = await t.db.query('SELECT ultravox_check_problem FROM agencies WHERE id = $1', [
      slow.agencyId,
    ]);
    expect(slowAfter.rows[0].ultravox_check_problem).toMatch(/asked to wait/);
    expect((await integrationOf(t, other.member.auth)).allowed_concurrent_calls).toBe(3);

    // Past the interval (5m) but not past Retry-After (20m): the other is asked again, the slow one not.
    const slowAsked = requestsOf(slow.ultravoxKey, '/api/accounts/me').length;
    const otherAsked = requestsOf(other.ultravoxKey, '/api/accounts/me').length;
    await checkAt(12 * MIN);
    expect(requestsOf(other.ultravoxKey, '/api/accounts/me')).toHaveLength(otherAsked + 1);
    expect(requestsOf(slow.ultravoxKey, '/api/accounts/me')).toHaveLength(slowAsked);
    await checkAt(27 * MIN);
    expect(requestsOf(slow.ultravoxKey, '/api/accounts/me')).toHaveLength(slowAsked + 1);
  });

  it('an agency whose Ultravox hangs does not hold the others up; it is asked again an interval later', async () => {
    const hanging = await callingAgency(t);
    const other = await callingAgency(t);
    // Longer than ULTRAVOX_TIMEOUT_MS (1.5 s in tests): the request times out.
    sim.addFault({
      path: '/api/accounts/me',
      keyPrefix: hanging.ultravoxKey.slice(0, 8),
      status: 200,
      delayMs: 10_000,
    });
    sim.setAllowedConcurrentCalls(other.ultravoxKey, 4);
    await checkAt(6 * MIN);
    expect((await integrationOf(t, other.member.auth)).allowed_concurrent_calls).toBe(4);
    const stored = await t.db.query('SELECT ultravox_check_problem FROM agencies WHERE id = $1', [
      hanging.agencyId,
    ]);
    expect(stored.rows[0].ultravox_check_problem).toMatch(/could not be asked.*did not answer/);

    sim.setAllowedConcurrentCalls(hanging.ultravoxKey, 2);
    await checkAt(12 * MIN);
    expect(await integrationOf(t, hanging.member.auth)).toMatchObject({
      allowed_concurrent_calls: 2,
      effective_concurrent_calls: 2,
    });
  });

  it('an agency whose check fails on Switchboard’s side is logged, put off an interval, and the others go on', async () => {
    const broken = await callingAgency(t);
    const other = await callingAgency(t);
    // A stored key that no longer decrypts (e.g. encrypted under a key since dropped).
    await t.db.query(`UPDATE agencies SET ultravox_api_key_encrypted = 'v1:garbage' WHERE id = $1`, [
      broken.agencyId,
    ]);
    sim.setAllowedConcurrentCalls(other.ultravoxKey, 4);
    const ahead = Date.now() + 6 * MIN;
    await checkAt(6 * MIN);
    expect((await integrationOf(t, other.member.auth)).allowed_concurrent_calls).toBe(4);
    const stored = await t.db.query('SELECT ultravox_next_check_at AS next FROM agencies WHERE id = $1', [
      broken.agencyId,
    ]);
    expect((stored.rows[0].next as Date).getTime()).toBeGreaterThanOrEqual(ahead + 5 * MIN);
  });

  it('a key Ultravox rejects stops the checks, and the GET says so, until a key is saved again', async () => {
    const agency = await createAgency(t);
    const rejected = ultravoxKey('invalid');
    await saveKey(t, agency, { api_key: rejected, skip_validation: true });
    const witness = await callingAgency(t);
    await checkAt(6 * MIN);
    const integration = await integrationOf(t, agency.member.auth);
    expect(integration.key_rejected_at).toEqual(expect.any(String));
    const asked = requestsOf(rejected, '/api/accounts/me').length;
    expect(asked).toBe(1);

    const witnessAsked = requestsOf(witness.ultravoxKey, '/api/accounts/me').length;
    await checkAt(30 * MIN);
    expect(requestsOf(witness.ultravoxKey, '/api/accounts/me')).toHaveLength(witnessAsked + 1);
    expect(requestsOf(rejected, '/api/accounts/me')).toHaveLength(asked);

    await saveKey(t, agency, { api_key: ultravoxKey() });
    expect((await integrationOf(t, agency.member.auth)).key_rejected_at).toBeNull();
  });
});
