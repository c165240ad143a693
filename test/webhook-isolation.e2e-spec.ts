import { WebhookOutbox } from '../src/webhooks/delivery/webhook-outbox.service';
import { subscribe } from './support/call-fixtures';
import { createAgency, TestAgency } from './support/fixtures';
import { Receiver } from './support/receiver';
import { startTestApp, TestApp } from './support/test-app';
import { waitFor } from './support/wait';

const CAP = 3;
const BACKLOG = 40;

describe('webhook isolation: one endpoint never delays another', () => {
  let t: TestApp;
  let slowAgency: TestAgency;
  let healthyAgency: TestAgency;
  const hanging = new Receiver();
  const healthy = new Receiver();

  beforeAll(async () => {
    t = await startTestApp({
      WEBHOOK_ENDPOINT_MAX_IN_FLIGHT: String(CAP),
      // Longer than the test: a hanging receiver holds its slots until it is let go.
      WEBHOOK_TIMEOUT_MS: '60000',
    });
    await hanging.start();
    await healthy.start();
    slowAgency = await createAgency(t, 'Slow CRM');
    healthyAgency = await createAgency(t, 'Healthy CRM');
    await subscribe(t, slowAgency, `${hanging.url}/slow`, ['call.completed']);
    await subscribe(t, healthyAgency, `${healthy.url}/healthy`, ['call.completed']);
  });
  afterAll(async () => {
    hanging.releaseHeld();
    await t.close();
    await hanging.close();
    await healthy.close();
  });

  const deliveriesOf = async (agency: TestAgency) =>
    (
      await t.db.query<{ status: string; attempt_count: number }>(
        'SELECT status, attempt_count FROM webhook_deliveries WHERE agency_id = $1',
        [agency.agencyId],
      )
    ).rows;

  it('a hanging endpoint with a backlog holds only its own slots; the other agency is served meanwhile, and the backlog drains at the cap', async () => {
    hanging.answer = () => ({ status: 204, hold: true });
    const outbox = t.app.get(WebhookOutbox);
    await Promise.all(
      Array.from({ length: BACKLOG }, (_, i) =>
        outbox.emit(slowAgency.agencyId, 'call.completed', { call_id: `slow-${i}` }),
      ),
    );
    // The hanging endpoint has its cap of attempts open...
    await waitFor(() => hanging.received.length >= CAP);

    await outbox.emit(healthyAgency.agencyId, 'call.completed', { call_id: 'healthy-1' });
    const [delivered] = await waitFor(() => healthy.received.length > 0 && healthy.received);
    expect(JSON.parse(delivered.body)).toMatchObject({ event: 'call.completed', call_id: 'healthy-1' });

    // ...and still only those: the other agency's event went past its backlog.
    expect(hanging.received).toHaveLength(CAP);
    expect(hanging.inFlight).toBe(CAP);
    const parked = (await deliveriesOf(slowAgency)).filter((d) => d.attempt_count === 0);
    expect(parked).toHaveLength(BACKLOG - CAP);
    expect(parked.every((d) => d.status === 'pending')).toBe(true);

    // The receiver recovers: the backlog arrives, never more than CAP at once, each delivery once.
    hanging.answer = () => ({ status: 204 });
    hanging.releaseHeld();
    const all = await waitFor(() => hanging.received.length >= BACKLOG && hanging.received);
    expect(new Set(all.map((r) => JSON.parse(r.body).call_id as string)).size).toBe(BACKLOG);
    expect(hanging.maxInFlight).toBe(CAP);
    const settled = await waitFor(async () => {
      const rows = await deliveriesOf(slowAgency);
      return rows.every((d) => d.status === 'succeeded') && rows;
    });
    // Waiting parked used up no attempt of the retry schedule.
    expect(settled.map((d) => d.attempt_count)).toEqual(Array(BACKLOG).fill(1));
    expect(hanging.received).toHaveLength(BACKLOG);
  });
});
