import { Metrics } from './metrics';

const line = (text: string, prefix: string) => text.split('\n').find((l) => l.startsWith(prefix));

describe('Metrics', () => {
  it('counts a terminal reason outside the vocabulary as other, so no reason text becomes a series', async () => {
    const metrics = new Metrics(true);
    metrics.callEnded('failed', 'no_answer');
    metrics.callEnded('failed', 'Ultravox answered 500: boom');
    metrics.callEnded('completed', null);
    const text = await metrics.scrape();
    expect(line(text, 'switchboard_calls_ended_total{status="failed",reason="no_answer"}')).toMatch(/ 1$/);
    expect(line(text, 'switchboard_calls_ended_total{status="failed",reason="other"}')).toMatch(/ 1$/);
    expect(line(text, 'switchboard_calls_ended_total{status="completed",reason="none"}')).toMatch(/ 1$/);
    expect(text).not.toContain('boom');
  });

  it('names a delivery attempt by how it was answered', async () => {
    const metrics = new Metrics(true);
    metrics.deliveryAttempt({ ok: true, statusCode: 204, durationMs: 3 });
    metrics.deliveryAttempt({ ok: false, statusCode: 503, durationMs: 3 });
    metrics.deliveryAttempt({ ok: false, statusCode: null, durationMs: 500 });
    const text = await metrics.scrape();
    for (const outcome of ['succeeded', 'receiver_error', 'no_answer']) {
      expect(line(text, `switchboard_webhook_delivery_attempts_total{outcome="${outcome}"}`)).toMatch(/ 1$/);
    }
  });

  it('labels a request no route matched as unmatched', async () => {
    const metrics = new Metrics(true);
    metrics.httpRequest('GET', undefined, 404, 1);
    metrics.httpRequest('GET', '/api/v1/calls/:id', 200, 1);
    metrics.httpRequest('GET', '/api/v1/calls/:id', 200, 1);
    const text = await metrics.scrape();
    const count = 'switchboard_http_request_duration_seconds_count';
    expect(line(text, `${count}{method="GET",route="unmatched",status="404"}`)).toMatch(/ 1$/);
    expect(line(text, `${count}{method="GET",route="/api/v1/calls/:id",status="200"}`)).toMatch(/ 2$/);
  });

  it('records nothing when disabled (METRICS_ENABLED=false)', async () => {
    const metrics = new Metrics(false);
    metrics.httpRequest('GET', '/health', 200, 1);
    metrics.callEnded('completed', null);
    expect((await metrics.scrape()).trim()).toBe('');
  });
});
