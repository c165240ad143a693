import { UnrecoverableError } from 'bullmq';
import type { AgencySecrets } from '../../agencies/agency-secrets';
import type { AppConfig } from '../../config/app-config';
import type { Attempt, ClaimedDelivery, DeliveriesRepository } from './deliveries.repository';
import type { DeliveryHttpClient, DeliveryResult } from './delivery-http.client';
import { DeliveryAttemptService, RetryLater } from './delivery-attempt.service';
import type { DeliveryStatus } from './webhook-delivery.entity';
import { Metrics } from '../../metrics/metrics';

const DELAYS = [30_000, 300_000];

function claimed(
  attempt: number,
  status: DeliveryStatus = 'pending',
  scheduledAttempt = attempt,
): ClaimedDelivery {
  return {
    id: 'd-1',
    agency_id: 'a-1',
    status,
    attempt,
    scheduled_attempt: scheduledAttempt,
    event_id: 'evt_1',
    payload: '{"event":"call.completed"}',
    endpoint_id: 'e-1',
    kind: 'custom',
    url: 'https://receiver.test/hook',
    secret_encrypted: 'sealed',
    previous_secret_encrypted: null,
    previous_secret_expires_at: null,
    api_key_encrypted: null,
  };
}

const answer = (statusCode: number | null): DeliveryResult => ({
  ok: statusCode !== null && statusCode >= 200 && statusCode < 300,
  statusCode,
  durationMs: 5,
  error: statusCode === 200 ? null : `status ${statusCode}`,
  responseExcerpt: null,
});

/** The service over a stubbed repository: which transition each outcome asks for. */
function setUp(target: ClaimedDelivery | null, result: DeliveryResult) {
  const calls: string[] = [];
  const recorded = (name: string) =>
    jest.fn((attempt: Attempt, ...rest: unknown[]) => {
      calls.push([name, attempt.delivery.attempt, ...rest].join(' '));
      return Promise.resolve();
    });
  const deliveries = {
    claim: jest.fn(() => Promise.resolve(target)),
    settleIfEndpointDisabled: jest.fn((id: string) => {
      calls.push(`settleIfEndpointDisabled ${id}`);
      return Promise.resolve();
    }),
    succeed: recorded('succeed'),
    retryLater: recorded('retryLater'),
    fail: recorded('fail'),
    logAttempt: recorded('logAttempt'),
  };
  const http = { post: jest.fn(() => Promise.resolve(result)) };
  const secret = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
  const secrets = { endpointSecret: () => secret, decrypt: () => secret };
  const config = { webhooks: { retryDelaysMs: DELAYS } } as unknown as AppConfig;
  const service = new DeliveryAttemptService(
    config,
    deliveries as unknown as DeliveriesRepository,
    http as unknown as DeliveryHttpClient,
    secrets as unknown as AgencySecrets,
    new Metrics(false),
  );
  return { service, calls, http };
}

describe('DeliveryAttemptService', () => {
  it('a 2xx answer marks the delivery succeeded', async () => {
    const { service, calls } = setUp(claimed(1), answer(200));
    await service.attempt('d-1');
    expect(calls).toEqual(['succeed 1']);
  });

  it('a failure with retries left keeps the delivery pending and asks BullMQ for the configured delay', async () => {
    const { service, calls } = setUp(claimed(2), answer(500));
    await expect(service.attempt('d-1')).rejects.toEqual(
      expect.objectContaining({ retryDelayMs: 300_000 }) as RetryLater,
    );
    expect(calls).toEqual(['retryLater 2 300000']);
  });

  it('the failure of the last retry fails the delivery for good', async () => {
    const { service, calls } = setUp(claimed(3), answer(500));
    await expect(service.attempt('d-1')).rejects.toBeInstanceOf(UnrecoverableError);
    expect(calls).toEqual(['fail 3']);
  });

  it('a recovered delivery has its whole schedule again: its log numbers go on, its retries count afresh', async () => {
    const first = setUp(claimed(4, 'pending', 1), answer(500));
    await expect(first.service.attempt('d-1')).rejects.toEqual(
      expect.objectContaining({ retryDelayMs: 30_000 }) as RetryLater,
    );
    expect(first.calls).toEqual(['retryLater 4 30000']);

    const last = setUp(claimed(6, 'pending', 3), answer(500));
    await expect(last.service.attempt('d-1')).rejects.toBeInstanceOf(UnrecoverableError);
    expect(last.calls).toEqual(['fail 6']);
  });

  it('410 Gone fails the delivery at once, retries left or not', async () => {
    const { service, calls } = setUp(claimed(1), answer(410));
    await expect(service.attempt('d-1')).rejects.toBeInstanceOf(UnrecoverableError);
    expect(calls).toEqual(['fail 1']);
  });

  it('a failed by-hand retry of a pending delivery is logged and leaves its schedule alone', async () => {
    const { service, calls } = setUp(claimed(2, 'pending'), answer(500));
    await expect(service.attempt('d-1', true)).rejects.toBeInstanceOf(UnrecoverableError);
    expect(calls).toEqual(['logAttempt 2']);
  });

  it('a failed by-hand retry of a failed delivery keeps it failed', async () => {
    const { service, calls } = setUp(claimed(4, 'failed'), answer(500));
    await expect(service.attempt('d-1', true)).rejects.toBeInstanceOf(UnrecoverableError);
    expect(calls).toEqual(['fail 4']);
  });

  it('a delivery that cannot be claimed is not sent; a scheduled one fails if its endpoint is disabled', async () => {
    const scheduled = setUp(null, answer(200));
    await scheduled.service.attempt('d-1');
    expect(scheduled.calls).toEqual(['settleIfEndpointDisabled d-1']);
    expect(scheduled.http.post).not.toHaveBeenCalled();

    const byHand = setUp(null, answer(200));
    await byHand.service.attempt('d-1', true);
    expect(byHand.calls).toEqual([]);
  });
});
