import type { WebhookOutbox } from '../../webhooks/delivery/webhook-outbox.service';
import type { Call } from '../call.entity';
import type { CallTransitionsRepository, ChangedCall } from './call-transitions.repository';
import { CallTransitions } from './call-transitions.service';
import { Metrics } from '../../metrics/metrics';
import { Clock } from '../../common/clock';
import { buildAppConfig } from '../../config/app-config';
import { RecordingLinks } from '../recordings/recording-links';

const TEST_ENV = { JWT_SECRET: 'x'.repeat(32), ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64') };

const tx = { tx: true };

function callRow(changes: Partial<Call>): ChangedCall {
  return {
    agentName: 'Ava',
    id: 'call-1',
    agencyId: 'agency-1',
    agentId: 'agent-1',
    campaignId: 'campaign-1',
    direction: 'outbound',
    status: 'dialing',
    failureReason: null,
    phoneNumber: '+15550000001',
    metadata: null,
    transcript: null,
    startedAt: null,
    endedAt: null,
    ...changes,
  } as ChangedCall;
}

/**
 * The repository as the one place calls change (with their timeline line, in the same statement);
 * `changeLiveCall` answers null when the call had ended.
 */
function setUp(callEnded = false) {
  const calls = {
    changeLiveCall: jest.fn(async (_tx: unknown, _id: string, changes: Partial<Call>) =>
      callEnded ? null : callRow(changes),
    ),
  };
  const emit = jest.fn(async () => []);
  const outbox = {
    transaction: jest.fn(async (work: (t: unknown, e: typeof emit) => Promise<unknown>) => work(tx, emit)),
  };
  const transitions = new CallTransitions(
    calls as unknown as CallTransitionsRepository,
    outbox as unknown as WebhookOutbox,
    new Metrics(false),
    new RecordingLinks(buildAppConfig(TEST_ENV), new Clock()),
  );
  const ended = jest.fn();
  transitions.onCampaignCallEnded(ended);
  return { calls, emit, transitions, ended };
}

describe('CallTransitions', () => {
  it('failed: the change, its timeline line and call.failed in one transaction; the campaign is told', async () => {
    const { calls, emit, transitions, ended } = setUp();
    await expect(transitions.failed('call-1', 'ultravox_rejected_key', {}, 'a note')).resolves.toBe(true);
    expect(calls.changeLiveCall).toHaveBeenCalledWith(
      tx,
      'call-1',
      expect.objectContaining({ status: 'failed', failureReason: 'ultravox_rejected_key' }),
      false,
      'call.failed',
      'a note',
    );
    expect(emit).toHaveBeenCalledWith(
      'agency-1',
      'call.failed',
      expect.objectContaining({
        call_id: 'call-1',
        agent_name: 'Ava',
        failure_reason: 'ultravox_rejected_key',
      }),
    );
    expect(ended).toHaveBeenCalledWith({ id: 'call-1', campaignId: 'campaign-1' });
  });

  it('started: only a call that has not started, and the campaign is not told (the call goes on)', async () => {
    const { calls, emit, transitions, ended } = setUp();
    await transitions.started('call-1', new Date('2026-12-01T10:00:00Z'));
    expect(calls.changeLiveCall).toHaveBeenCalledWith(
      tx,
      'call-1',
      expect.objectContaining({ status: 'in_progress' }),
      true,
      'call.started',
      null,
    );
    expect(emit).toHaveBeenCalledWith('agency-1', 'call.started', expect.anything());
    expect(ended).not.toHaveBeenCalled();
  });

  it('a call that already ended changes nothing: no event, nobody told', async () => {
    const { emit, transitions, ended } = setUp(true);
    await expect(transitions.completed('call-1', {} as never)).resolves.toBe(false);
    expect(emit).not.toHaveBeenCalled();
    expect(ended).not.toHaveBeenCalled();
  });
});
