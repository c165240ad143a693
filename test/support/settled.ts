import { getQueueToken } from '@nestjs/bullmq';
import type { JobState, Queue } from 'bullmq';
import request from 'supertest';
import { QUEUES } from '../../src/common/queues';
import type { UltravoxSim } from '../../tools/ultravox-sim/server';
import { callingAgency, simCallsOf } from './call-fixtures';
import type { TestApp } from './test-app';
import { waitFor } from './wait';

/*
 * Positive signals that work has settled, so a spec can then assert that something did NOT happen
 * (no second dial, no extra delivery) without sleeping: once the job that could have done it has
 * finished, and Postgres no longer says the work is due, nothing is left that could still do it.
 */

type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

export function queueOf(t: TestApp, name: QueueName): Queue {
  return t.app.get<Queue>(getQueueToken(name), { strict: false });
}

/** The BullMQ state of one job ('unknown' once it was removed, or before it was added). */
export async function jobState(t: TestApp, queue: QueueName, jobId: string): Promise<JobState | 'unknown'> {
  return queueOf(t, queue).getJobState(jobId);
}

const FINISHED: readonly string[] = ['completed', 'failed', 'unknown'];

/** Waits until each of these (already added) jobs has finished: no retry is waiting in Redis. */
export async function jobsFinished(t: TestApp, queue: QueueName, jobIds: readonly string[]): Promise<void> {
  for (const id of jobIds) {
    await waitFor(
      async () => FINISHED.includes(await jobState(t, queue, id)),
      20_000,
      `${queue} job ${id} to finish`,
    );
  }
}

/** Waits until the call's dial job is parked in the delayed set (a scheduled call waiting its time). */
export async function dialParked(t: TestApp, callId: string): Promise<void> {
  await waitFor(
    async () => (await jobState(t, QUEUES.callDial, callId)) === 'delayed',
    10_000,
    `the dial job of ${callId} to wait in the delayed set`,
  );
}

/**
 * Waits until every call of the agency has been dialed for good: its dial job has finished and the call
 * is neither waiting to be dialed nor dialing without an Ultravox id (what the sweeper would redial).
 * Returns the agency's call ids.
 */
export async function dialsSettled(t: TestApp, agencyId: string): Promise<string[]> {
  const unsettled = async () =>
    (
      await t.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM calls WHERE agency_id = $1
           AND (status IN ('queued', 'scheduled') OR (status = 'dialing' AND ultravox_call_id IS NULL))`,
        [agencyId],
      )
    ).rows[0].n;
  await waitFor(async () => (await unsettled()) === 0, 20_000, `the calls of ${agencyId} to be dialed`);
  const { rows } = await t.db.query<{ id: string }>(`SELECT id FROM calls WHERE agency_id = $1`, [agencyId]);
  const ids = rows.map((r) => r.id);
  await jobsFinished(t, QUEUES.callDial, ids);
  return ids;
}

/**
 * Waits until every webhook delivery of the agency has settled (succeeded or failed) and its job has
 * finished: whatever a receiver will ever get of them, it has got. Returns how many deliveries exist.
 */
export async function deliveriesSettled(t: TestApp, agencyId: string): Promise<number> {
  await waitFor(
    async () =>
      (
        await t.db.query(`SELECT 1 FROM webhook_deliveries WHERE agency_id = $1 AND status = 'pending'`, [
          agencyId,
        ])
      ).rowCount === 0,
    20_000,
    `the deliveries of ${agencyId} to settle`,
  );
  const { rows } = await t.db.query<{ id: string }>(
    `SELECT id FROM webhook_deliveries WHERE agency_id = $1`,
    [agencyId],
  );
  await jobsFinished(
    t,
    QUEUES.webhookDelivery,
    rows.map((r) => r.id),
  );
  return rows.length;
}

/** Waits until every stored Ultravox event of this Ultravox call has been processed. */
export async function ultravoxEventsProcessed(t: TestApp, ultravoxCallId: string): Promise<void> {
  await waitFor(
    async () =>
      (
        await t.db.query(
          `SELECT 1 FROM call_events WHERE ultravox_call_id = $1 AND source = 'ultravox' AND processed_at IS NULL`,
          [ultravoxCallId],
        )
      ).rowCount === 0,
    10_000,
    `the Ultravox events of ${ultravoxCallId} to be processed`,
  );
}

/**
 * Waits until nothing more can come of a call: every Ultravox event stored for it has been processed
 * and every webhook delivery of its agency has settled.
 */
export async function callQuiet(t: TestApp, agencyId: string, ultravoxCallId: string): Promise<void> {
  await ultravoxEventsProcessed(t, ultravoxCallId);
  await deliveriesSettled(t, agencyId);
}

/**
 * Waits until the campaign dispatcher has made a pass that began after this call: a one-contact
 * campaign of a fresh agency, started now, has its call dialed. What a paused or canceled campaign
 * would have dialed in such a pass would be at the simulator by then too.
 */
export async function dispatcherPassed(t: TestApp, sim: UltravoxSim): Promise<void> {
  const marker = await callingAgency(t);
  const auth = { Authorization: `Bearer ${marker.apiKey}` };
  const created = await request(t.url)
    .post('/api/v1/campaigns')
    .set(auth)
    .send({ name: 'Marker', max_concurrency: 1 })
    .expect(201);
  const id = created.body.data.id as string;
  await request(t.url)
    .post(`/api/v1/campaigns/${id}/contacts`)
    .set(auth)
    .send([{ phone: '+15559990000', name: 'Marker' }])
    .expect(200);
  await request(t.url).post(`/api/v1/campaigns/${id}/start`).set(auth).expect(200);
  await waitFor(
    () => simCallsOf(sim, marker).length > 0,
    20_000,
    'the marker campaign’s call (a dispatcher pass)',
  );
}
