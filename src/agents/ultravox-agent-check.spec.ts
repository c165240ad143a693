import { AgencySecrets } from '../agencies/agency-secrets';
import { ApiError } from '../common/errors/api-error';
import { UltravoxAgent, UltravoxClient } from '../ultravox/ultravox.client';
import { UltravoxError } from '../ultravox/ultravox.errors';
import { Agent } from './agent.entity';
import { AgentsRepository } from './agents.repository';
import { AGENT_SCHEMA_TTL_MS, declaredVariables, UltravoxAgentCheck } from './ultravox-agent-check';

describe('UltravoxAgentCheck', () => {
  const now = new Date('2026-06-01T12:00:00Z');
  let getAgent: jest.Mock<Promise<UltravoxAgent>, [string, string]>;
  let recordCheck: jest.Mock;
  let apiKey: string | null;
  let check: UltravoxAgentCheck;

  beforeEach(() => {
    getAgent = jest.fn();
    recordCheck = jest.fn().mockResolvedValue(undefined);
    apiKey = 'Zk3pQ9aB.key';
    check = new UltravoxAgentCheck(
      { getAgent } as unknown as UltravoxClient,
      { ultravoxApiKey: () => Promise.resolve(apiKey) } as unknown as AgencySecrets,
      { recordCheck } as unknown as AgentsRepository,
    );
  });

  const agent = (fields: Partial<Agent> = {}): Agent =>
    ({
      id: 'agent-1',
      ultravoxAgentId: 'uv-1',
      ultravoxCheck: 'verified',
      ultravoxCheckedAt: new Date(now.getTime() - 60_000),
      contextVariables: ['name'],
      ...fields,
    }) as Agent;

  it('reads the declared variables from callTemplate.contextSchema.properties, sorted; null without them', () => {
    expect(declaredVariables({ callTemplate: { contextSchema: { properties: { b: {}, a: {} } } } })).toEqual([
      'a',
      'b',
    ]);
    expect(declaredVariables({ callTemplate: { contextSchema: { properties: [] } } })).toBeNull();
    // A name no request could fill (nor Postgres store) is left out.
    expect(
      declaredVariables({ callTemplate: { contextSchema: { properties: { 'a\u0000b': {}, name: {} } } } }),
    ).toEqual(['name']);
    expect(declaredVariables({ callTemplate: null })).toBeNull();
    expect(declaredVariables({})).toBeNull();
  });

  it('at save: 404 is 422 ultravox_agent_not_found; 5xx unverified; 403 key_rejected; no key not_checked', async () => {
    getAgent.mockRejectedValueOnce(new UltravoxError('not_found', 'Ultravox answered 404', 404));
    await expect(check.onSave('agency', 'uv-x')).rejects.toMatchObject({
      code: 'ultravox_agent_not_found',
    } satisfies Partial<ApiError>);
    getAgent.mockRejectedValueOnce(new UltravoxError('unavailable', 'Ultravox answered 503', 503));
    expect(await check.onSave('agency', 'uv-x')).toMatchObject({ ultravoxCheck: 'unverified' });
    getAgent.mockRejectedValueOnce(new UltravoxError('rejected_key', 'Ultravox answered 403', 403));
    expect(await check.onSave('agency', 'uv-x')).toMatchObject({ ultravoxCheck: 'key_rejected' });
    apiKey = null;
    expect(await check.onSave('agency', 'uv-x')).toEqual({
      ultravoxCheck: 'not_checked',
      ultravoxCheckedAt: null,
      contextVariables: null,
    });
    expect(getAgent).toHaveBeenCalledTimes(3);
  });

  it('at dial: a verified agent with a fresh schema is not read again', async () => {
    expect(await check.forDial(agent(), 'key', now)).toEqual({ known: true, variables: ['name'] });
    expect(getAgent).not.toHaveBeenCalled();
  });

  it('at dial: a stale schema is read once for dials that find it stale together, and stored', async () => {
    getAgent.mockResolvedValue({ callTemplate: { contextSchema: { properties: { plan: {} } } } });
    const stale = agent({ ultravoxCheckedAt: new Date(now.getTime() - AGENT_SCHEMA_TTL_MS) });
    const results = await Promise.all([1, 2, 3].map(() => check.forDial(stale, 'key', now)));
    expect(results).toEqual(Array(3).fill({ known: true, variables: ['plan'] }));
    expect(getAgent).toHaveBeenCalledTimes(1);
    expect(recordCheck).toHaveBeenCalledWith('agent-1', 'uv-1', {
      ultravoxCheck: 'verified',
      ultravoxCheckedAt: now,
      contextVariables: ['plan'],
    });
  });

  it('at dial: an unverified agent Ultravox does not know is not known; unreachable keeps the stored schema', async () => {
    getAgent.mockRejectedValueOnce(new UltravoxError('not_found', 'Ultravox answered 404', 404));
    expect(await check.forDial(agent({ ultravoxCheck: 'unverified' }), 'key', now)).toMatchObject({
      known: false,
    });
    getAgent.mockRejectedValueOnce(new UltravoxError('timeout', 'no answer'));
    expect(await check.forDial(agent({ ultravoxCheck: 'unverified' }), 'key', now)).toEqual({
      known: true,
      variables: ['name'],
    });
    expect(recordCheck).not.toHaveBeenCalled();
  });
});
