import request from 'supertest';
import { NOT_THE_AGENCYS_CALL } from '../src/calls/lifecycle/call-lifecycle.service';
import { UltravoxSim } from '../tools/ultravox-sim/server';
import { callingAgency, CallingAgency, subscribe } from './support/call-fixtures';
import { startCallingStack, stopCallingStack } from './support/calling-stack';
import { Receiver } from './support/receiver';
import { TestApp } from './support/test-app';
import { waitFor } from './support/wait';

type Payload = Record<string, unknown> & { event: string; call_id: string };

/*
 * CONTRACT §7: events for calls Switchboard did not place are recorded (as inbound) only when their
 * Ultravox agent is one of the agency's agents. Console test calls and other programs on the same
 * Ultravox account are acknowledged and ignored: no call, no webhook.
 */
describe("only the agency's calls: inbound calls and console calls on the same Ultravox account", () => {
  let sim: UltravoxSim;
  let t: TestApp;
  let receiver: Receiver;
  let agency: CallingAgency;

  beforeAll(async () => {
    ({ sim, t, receiver } = await startCallingStack({ timeScale: 0.02 }));
    agency = await callingAgency(t);
    await subscribe(t, agency, `${receiver.url}/calls`);
  });
  afterAll(() => stopCallingStack({ sim, t, receiver }));

  const storedEvents = async (ultravoxCallId: string) =>
    (
      await t.db.query<{
        event: string;
        processed_at: Date | null;
        detail: string | null;
        call_id: string | null;
      }>(
        `SELECT event, processed_at, detail, call_id FROM call_events
          WHERE agency_id = $1 AND ultravox_call_id = $2 AND source = 'ultravox'`,
        [agency.agencyId, ultravoxCallId],
      )
    ).rows;

  /**
   * The simulator's call.ended (its last webhook registered by Switchboard) reached our ingest and was
   * answered 204, like every event of the call; then every stored event of the call is settled.
   */
  const settledAtIngest = async (ultravoxCallId: string) => {
    await waitFor(
      () => sim.deliveries().find((d) => d.callId === ultravoxCallId && d.event === 'call.ended'),
      20_000,
      'call.ended to reach the ingest',
    );
    return waitFor(
      async () => {
        const delivered = sim.deliveries().filter((d) => d.callId === ultravoxCallId);
        const events = await storedEvents(ultravoxCallId);
        const settled =
          delivered.every((d) => d.status === 204) &&
          events.length === new Set(delivered.map((d) => d.event)).size &&
          events.every((e) => e.processed_at !== null);
        return settled && events;
      },
      20_000,
      'the stored events to be settled',
    );
  };

  const callsOfAgency = async () =>
    (await request(t.url).get('/api/v1/calls').set('Authorization', agency.member.auth).expect(200)).body
      .data as Array<Record<string, unknown>>;

  it('a console call on another agent of the account creates no call and no webhook', async () => {
    const consoleCall = sim.consoleCall({ apiKey: agency.ultravoxKey });
    const phoneCall = sim.consoleCall({ apiKey: agency.ultravoxKey, from: '+15557650001' });

    for (const call of [consoleCall, phoneCall]) {
      const events = await settledAtIngest(call.callId);
      // Settled as ignored: processed (so no sweeper offers them again), tied to no call.
      expect(events.map((e) => e.event)).toEqual(expect.arrayContaining(['call.started', 'call.ended']));
      for (const event of events) {
        expect(event).toMatchObject({ call_id: null, detail: NOT_THE_AGENCYS_CALL });
      }
    }
    const { rows } = await t.db.query(`SELECT id FROM calls WHERE ultravox_call_id = ANY($1)`, [
      [consoleCall.callId, phoneCall.callId],
    ]);
    expect(rows).toEqual([]);
    expect(await callsOfAgency()).toEqual([]);
    expect(receiver.received).toEqual([]);
    const outbox = await t.db.query(`SELECT id FROM webhook_events WHERE agency_id = $1`, [agency.agencyId]);
    expect(outbox.rows).toEqual([]);
  });

  it("an incoming call on the agency's agent is recorded as inbound, with the caller's number, and forwarded", async () => {
    const incoming = sim.consoleCall({
      apiKey: agency.ultravoxKey,
      agentId: agency.ultravoxAgentId,
      from: '+15557650002',
    });
    const completed = await waitFor(
      () => receiver.events<Payload>().find((p) => p.event === 'call.completed'),
      20_000,
      'call.completed of the inbound call',
    );
    expect(completed).toMatchObject({
      direction: 'inbound',
      phone_number: '+15557650002',
      agent_id: agency.agentId,
      summary: expect.stringMatching(/\S/),
    });
    const call = (
      await request(t.url)
        .get(`/api/v1/calls/${completed.call_id}`)
        .set('Authorization', agency.member.auth)
        .expect(200)
    ).body.data as Record<string, unknown>;
    expect(call).toMatchObject({
      direction: 'inbound',
      status: 'completed',
      phone_number: '+15557650002',
      agent_id: agency.agentId,
      ultravox_call_id: incoming.callId,
    });
    const events = await settledAtIngest(incoming.callId);
    expect(events.every((e) => e.call_id === completed.call_id)).toBe(true);
  });
});
