import { liveCallCap } from '../agencies/live-call-cap';
import { accountLimit, webhookHealth } from './ultravox-webhook-health';

describe('reading what Ultravox reports of a webhook and an account', () => {
  it('takes status, lastStatusChange and recentFailures, leniently', () => {
    const health = webhookHealth({
      webhookId: 'w1',
      url: 'https://x.test/hook',
      events: ['call.ended'],
      status: 'unhealthy',
      lastStatusChange: '2026-12-01T10:00:00Z',
      recentFailures: [
        { timestamp: '2026-12-01T09:59:00Z', error: 'HTTP 500' },
        { statusCode: 502 },
        'connection refused',
        { something: 'else' },
        42,
      ],
    });
    expect(health).toEqual({
      status: 'unhealthy',
      statusChangedAt: new Date('2026-12-01T10:00:00Z'),
      recentFailures: [
        { at: '2026-12-01T09:59:00.000Z', detail: 'HTTP 500' },
        { at: null, detail: '502' },
        { at: null, detail: 'connection refused' },
        { at: null, detail: '{"something":"else"}' },
        { at: null, detail: null },
      ],
    });
  });

  it('keeps failure details storable: a NUL, or a cut through a surrogate pair at 300 characters, becomes U+FFFD', () => {
    const cut = `${'x'.repeat(299)}😀 and more`;
    const health = webhookHealth({
      webhookId: 'w1',
      url: 'https://x.test/hook',
      events: ['call.ended'],
      recentFailures: [{ error: 'bad\u0000byte' }, cut],
    });
    expect(health.recentFailures.map((f) => f.detail)).toEqual(['bad\uFFFDbyte', `${'x'.repeat(299)}\uFFFD`]);
  });

  it('reads an unknown or absent status as normal, and keeps the latest 10 failures', () => {
    const failures = Array.from({ length: 12 }, (_, i) => ({ error: `e${i}` }));
    const health = webhookHealth({
      webhookId: 'w',
      url: 'u',
      events: [],
      status: 'paused',
      recentFailures: failures,
    });
    expect(health.status).toBe('normal');
    expect(health.statusChangedAt).toBeNull();
    expect(health.recentFailures.map((f) => f.detail)).toEqual(failures.slice(2).map((f) => f.error));
    expect(webhookHealth({ webhookId: 'w', url: 'u', events: [] })).toEqual({
      status: 'normal',
      statusChangedAt: null,
      recentFailures: [],
    });
  });

  it('takes allowedConcurrentCalls only when it is a non-negative integer', () => {
    expect(accountLimit({ allowedConcurrentCalls: 5 })).toBe(5);
    expect(accountLimit({ allowedConcurrentCalls: 0 })).toBe(0);
    expect(accountLimit({ allowedConcurrentCalls: -1 })).toBeNull();
    expect(accountLimit({ allowedConcurrentCalls: 2.5 })).toBeNull();
    expect(accountLimit({ allowedConcurrentCalls: null })).toBeNull();
    expect(accountLimit({})).toBeNull();
  });

  it('caps live calls at the smaller of the account’s limit and MAX_CONCURRENT_CALLS_PER_AGENCY', () => {
    expect(liveCallCap({ ultravoxAllowedConcurrentCalls: null }, 10)).toBe(10);
    expect(liveCallCap({ ultravoxAllowedConcurrentCalls: 3 }, 10)).toBe(3);
    expect(liveCallCap({ ultravoxAllowedConcurrentCalls: 50 }, 10)).toBe(10);
  });
});
