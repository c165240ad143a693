import { callerNumberOf, ultravoxAgentOf } from './inbound-call';

describe('inbound calls as Ultravox describes them', () => {
  it('takes the Ultravox agent from call.agent.agentId, else agentId', () => {
    expect(ultravoxAgentOf({ callId: 'c', agent: { agentId: 'a1' }, agentId: 'a2' })).toBe('a1');
    expect(ultravoxAgentOf({ callId: 'c', agentId: 'a2' })).toBe('a2');
    expect(ultravoxAgentOf({ callId: 'c', agent: null })).toBeNull();
  });

  it("reads the caller's number from medium.<provider>.incoming.from, normalised to E.164", () => {
    expect(callerNumberOf({ callId: 'c', medium: { twilio: { incoming: { from: '+15551230001' } } } })).toBe(
      '+15551230001',
    );
    expect(
      callerNumberOf({ callId: 'c', medium: { telnyx: { incoming: { from: '+1 (555) 123-0002' } } } }),
    ).toBe('+15551230002');
  });

  it('gives no number for console calls, outgoing media and malformed values', () => {
    expect(callerNumberOf({ callId: 'c', medium: { webRtc: {} } })).toBeNull();
    expect(
      callerNumberOf({ callId: 'c', medium: { twilio: { outgoing: { to: '+15551230001' } } } }),
    ).toBeNull();
    expect(
      callerNumberOf({ callId: 'c', medium: { twilio: { incoming: { from: 'anonymous' } } } }),
    ).toBeNull();
    expect(callerNumberOf({ callId: 'c', medium: 'twilio' })).toBeNull();
    expect(callerNumberOf({ callId: 'c' })).toBeNull();
  });
});
