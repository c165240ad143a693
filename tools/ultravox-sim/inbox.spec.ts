import { startUltravoxSim, UltravoxSim } from './server';

describe('demo inbox', () => {
  let sim: UltravoxSim;

  beforeAll(async () => {
    sim = await startUltravoxSim();
  });
  afterAll(() => sim.close());

  it('keeps what is POSTed to /_sim/inbox/* byte for byte and lists it', async () => {
    const body = '{"event":"call.completed", "call_id":"c-1"}';
    const res = await fetch(`${sim.url}/_sim/inbox/hooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'webhook-id': 'evt_1' },
      body,
    });
    expect(res.status).toBe(204);
    const listed = (await (await fetch(`${sim.url}/_sim/inbox`)).json()) as {
      entries: { path: string; body: string; headers: Record<string, string> }[];
    };
    expect(listed.entries).toEqual([expect.objectContaining({ path: '/_sim/inbox/hooks', body })]);
    expect(listed.entries[0].headers['webhook-id']).toBe('evt_1');
  });
});
