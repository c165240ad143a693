import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import type { AppConfig } from '../config/app-config';
import { UltravoxClient } from './ultravox.client';
import { Metrics } from '../metrics/metrics';

/** Until `check` holds, yielding to I/O between looks (setTimeout is faked in these tests). */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000 && !check(); i++) await new Promise((resolve) => setImmediate(resolve));
  expect(check()).toBe(true);
}

describe('UltravoxClient: a short Retry-After is waited out here, on the timer', () => {
  let server: Server;
  let client: UltravoxClient;
  const answers: { status: number; headers?: Record<string, string>; body: string }[] = [];
  let received = 0;

  beforeEach(async () => {
    received = 0;
    answers.length = 0;
    server = createServer((req, res) => {
      req.resume().on('end', () => {
        const answer = answers[received++] ?? { status: 500, body: '{}' };
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        res.end(answer.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const config = { ultravox: { baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 10_000 } } as AppConfig;
    client = new UltravoxClient(config, new Metrics(false));
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
  });
  afterEach(async () => {
    jest.useRealTimers();
    await client.onModuleDestroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('429 with Retry-After: 1 → the create-call is sent again only once 1 s has passed', async () => {
    answers.push(
      { status: 429, headers: { 'retry-after': '1' }, body: '{"detail":"Too many"}' },
      { status: 201, body: '{"callId":"c-1"}' },
    );
    const created = client.createCall('key', 'agent', {
      templateContext: {},
      metadata: {},
      medium: { twilio: { outgoing: { to: '+15550000001', from: '+15550000002' } } },
      firstSpeakerSettings: { user: { fallback: { delay: '5s', text: 'Hello?' } } },
    });
    const timers = jest.spyOn(global, 'setTimeout');
    await until(() => received === 1 && timers.mock.calls.some(([, ms]) => ms === 1_000));

    await jest.advanceTimersByTimeAsync(999);
    expect(received).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    await expect(created).resolves.toMatchObject({ callId: 'c-1' });
    expect(received).toBe(2);
  });
});
