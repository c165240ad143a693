import { startUltravoxSim, UltravoxCall, UltravoxMessage, UltravoxSim } from './server';
import { Page } from './pagination';
import { api, apiKey, outgoingCall, waitFor } from './spec-support';

describe('Ultravox simulator: keys, accounts and lists', () => {
  let sim: UltravoxSim;
  const key = apiKey('listsAAA');

  beforeAll(async () => {
    sim = await startUltravoxSim({ timeScale: 0.002, maxConcurrentCalls: 50 });
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.reset());

  const createCall = async (to: string, metadata: Record<string, string> = {}, as = key): Promise<string> => {
    const created = await api<UltravoxCall>(`${sim.url}/api/agents/agent-1/calls`, {
      method: 'POST',
      key: as,
      body: outgoingCall(to, { metadata }),
    });
    expect(created.status).toBe(201);
    return created.body.callId;
  };

  async function collect<T>(firstUrl: string): Promise<{ items: T[]; pages: number }> {
    const items: T[] = [];
    let next: string | null = firstUrl;
    let pages = 0;
    while (next) {
      const page: { status: number; body: Page<T> } = await api<Page<T>>(next, { key });
      expect(page.status).toBe(200);
      items.push(...page.body.results);
      next = page.body.next;
      pages += 1;
    }
    return { items, pages };
  }

  it('answers 403 "credentials were not provided" without a key', async () => {
    const response = await api<{ detail: string }>(`${sim.url}/api/accounts/me`);
    expect(response.status).toBe(403);
    expect(response.body.detail).toMatch(/credentials were not provided/);
  });

  it.each([
    ['a malformed key', 'abc.def'],
    ['a key with a short second part', `Abcd1234.${'k'.repeat(31)}`],
    ['a key starting with "invalid"', `invalid1.${'k'.repeat(32)}`],
    ['a key starting with "INVALID"', `INVALIDx.${'k'.repeat(32)}`],
  ])('answers 403 "Invalid API key" for %s', async (_label, badKey) => {
    const response = await api(`${sim.url}/api/calls?limit=1`, { key: badKey });
    expect(response).toMatchObject({ status: 403, body: { detail: 'Invalid API key' } });
  });

  it('accepts a well-formed key on the validation request Switchboard makes', async () => {
    const response = await api<Page<UltravoxCall>>(`${sim.url}/api/calls?limit=1`, { key });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ next: null, previous: null, total: 0, results: [] });
  });

  it('describes the account on /api/accounts/me', async () => {
    const response = await api(`${sim.url}/api/accounts/me`, { key });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      name: expect.any(String),
      freeTimeUsed: '0s',
      freeTimeRemaining: expect.stringMatching(/^\d+s$/),
      hasActiveSubscription: false,
      activeCalls: 0,
      allowedConcurrentCalls: 50,
    });
  });

  it('keeps each key a separate account: another key sees 404 and an empty list', async () => {
    const callId = await createCall('+15551234567');
    const other = apiKey('otherBBB');
    expect((await api(`${sim.url}/api/calls/${callId}`, { key: other })).body).toEqual({
      detail: 'Not found.',
    });
    expect((await api(`${sim.url}/api/calls/${callId}`, { key: other })).status).toBe(404);
    expect((await api<Page<UltravoxCall>>(`${sim.url}/api/calls`, { key: other })).body.total).toBe(0);
    expect((await api<UltravoxCall>(`${sim.url}/api/calls/${callId}`, { key })).body.callId).toBe(callId);
  });

  it('pages calls newest first and following next visits each call once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) ids.push(await createCall('+15551234567'));
    const firstPage = await api<Page<UltravoxCall>>(`${sim.url}/api/calls?pageSize=2`, { key });
    expect(firstPage.body).toMatchObject({ total: 5, previous: null });
    expect(new URL(firstPage.body.next ?? '').searchParams.get('cursor')).toBeTruthy();

    const { items, pages } = await collect<UltravoxCall>(`${sim.url}/api/calls?pageSize=2`);
    expect(pages).toBe(3);
    expect(items.map((call) => call.callId)).toEqual([...ids].reverse());

    const second = await api<Page<UltravoxCall>>(firstPage.body.next ?? '', { key });
    const back = await api<Page<UltravoxCall>>(second.body.previous ?? '', { key });
    expect(back.body.results.map((call) => call.callId)).toEqual(firstPage.body.results.map((c) => c.callId));
  });

  it('filters calls by metadata.<key>=<value>', async () => {
    const wanted = await createCall('+15551234567', { campaign: 'spring' });
    await createCall('+15551234567', { campaign: 'autumn' });
    await createCall('+15551234567');
    const response = await api<Page<UltravoxCall>>(`${sim.url}/api/calls?metadata.campaign=spring`, { key });
    expect(response.body.total).toBe(1);
    expect(response.body.results[0].callId).toBe(wanted);
  });

  it('answers 404 for a cursor it did not issue', async () => {
    const response = await api(`${sim.url}/api/calls?cursor=not-a-cursor`, { key });
    expect(response).toMatchObject({ status: 404, body: { detail: 'Invalid cursor' } });
  });

  it('pages a long transcript, tool messages included, once the call has ended', async () => {
    const callId = await createCall('+15551230999');
    await waitFor('the long call to end', () => sim.state.findCall(callId)?.call.call.ended !== null);

    const { items, pages } = await collect<UltravoxMessage>(`${sim.url}/api/calls/${callId}/messages`);
    expect(pages).toBeGreaterThan(2);
    expect(items.map((message) => message.callStageMessageIndex)).toEqual(items.map((_, index) => index));
    expect(items[0]).toMatchObject({ role: 'MESSAGE_ROLE_AGENT', medium: 'MESSAGE_MEDIUM_VOICE' });
    expect(items[0].timespan).toBeUndefined();
    expect(items[1].timespan).toEqual({
      start: expect.stringMatching(/^\d+\.\d{3}s$/),
      end: expect.any(String),
    });
    const roles = new Set(items.map((message) => message.role));
    expect(roles).toEqual(
      new Set([
        'MESSAGE_ROLE_AGENT',
        'MESSAGE_ROLE_USER',
        'MESSAGE_ROLE_TOOL_CALL',
        'MESSAGE_ROLE_TOOL_RESULT',
      ]),
    );
  });

  it('shows no transcript before the callee answers', async () => {
    const callId = await createCall('+15551230000');
    const response = await api<Page<UltravoxMessage>>(`${sim.url}/api/calls/${callId}/messages`, { key });
    expect(response.body).toEqual({ next: null, previous: null, total: 0, results: [] });
  });
});
