import { InjectQueue } from '@nestjs/bullmq';
import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Queue } from 'bullmq';
import { timingSafeEqual } from 'node:crypto';
import { DataSource } from 'typeorm';
import { batchPerTick } from '../../common/batch-per-tick';
import { addInBulk, BulkJobs } from '../../common/queues';
import { ApiError } from '../../common/errors/api-error';
import { CallEventJob, JOBS, QUEUES } from '../../common/queues';
import { byOrdinality, runSql, statement } from '../../database/sql';
import { verifyUltravoxSignature } from '../../ultravox/ultravox-signature';
import { AgencySecrets, IngestSecrets, secretDigest } from '../../agencies/agency-secrets';

/** The Ultravox events that move a call along; any other is acknowledged and ignored (CONTRACT §5.2). */
export const HANDLED_EVENTS = new Set(['call.started', 'call.joined', 'call.ended', 'call.billed']);

/** jobId derived from the stored event, so the sweeper and ingest never queue one event twice. */
export function callEventJob(eventId: string) {
  return {
    name: JOBS.processCallEvent,
    data: { eventId },
    opts: {
      jobId: `event-${eventId}`,
      attempts: 8,
      backoff: { type: 'exponential', delay: 2_000 },
      removeOnComplete: 1000,
      removeOnFail: 5000,
    },
  };
}

export function enqueueCallEvent(queue: Queue<CallEventJob>, eventId: string): Promise<unknown> {
  const job = callEventJob(eventId);
  return queue.add(job.name, job.data, job.opts);
}

export interface IngestRequest {
  agencyId: string;
  secret: string;
  rawBody: Buffer;
  body: unknown;
  signature?: string;
  timestamp?: string;
}

interface UltravoxEvent {
  agencyId: string;
  callId: string;
  event: string;
  payload: string;
}

/**
 * One statement for all the events of an event-loop turn. The ordinality maps each stored row back to
 * its item; items missing from the result were already stored (CONTRACT §5.2: idempotent). The bodies
 * go as one JSON array: pg escapes a text[] element by element in JavaScript, a measurable cost for
 * bodies this size (docs/benchmarks.md#batch-per-tick).
 */
const INSERT_EVENTS = statement(
  'ingest_insert_call_events',
  `WITH input AS (
     SELECT * FROM ROWS FROM (
       unnest($1::uuid[]), unnest($2::text[]), unnest($3::text[]), json_array_elements_text($4::json)
     ) WITH ORDINALITY AS t(agency_id, ultravox_call_id, event, payload, ord)
   ), stored AS (
     INSERT INTO call_events (agency_id, ultravox_call_id, source, event, payload)
     SELECT agency_id, ultravox_call_id, 'ultravox', event, payload FROM input ORDER BY ord
     ON CONFLICT (agency_id, ultravox_call_id, event) WHERE source = 'ultravox' DO NOTHING
     RETURNING id, agency_id, ultravox_call_id, event
   )
   SELECT stored.id, input.ord FROM stored JOIN input USING (agency_id, ultravox_call_id, event)`,
);

const FOREIGN_KEY_VIOLATION = '23503';

const unknownWebhookUrl = () => ApiError.notFound('not_found', 'Unknown webhook URL');

/** Ultravox → Switchboard: check, persist once, answer fast; the slow work happens in a job. */
@Injectable()
export class IngestService {
  private readonly logger = new Logger(IngestService.name);
  /** The stored event's id, or null for a duplicate. */
  private readonly store = batchPerTick((events: readonly UltravoxEvent[]) => this.storeMany(events));
  /** The jobs of an event-loop turn go to Redis in one addBulk. */
  private readonly addJobs: (jobs: BulkJobs<CallEventJob>) => Promise<void>;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectQueue(QUEUES.callEvents) queue: Queue<CallEventJob>,
    private readonly secrets: AgencySecrets,
  ) {
    this.addJobs = addInBulk(queue);
  }

  async ingest(request: IngestRequest): Promise<void> {
    const agency = await this.authenticate(request);
    const { event, callId } = this.parse(request.body);
    if (!HANDLED_EVENTS.has(event)) return;
    const payload = request.rawBody.toString('utf8');
    const eventId = await this.store({ agencyId: agency.agencyId, callId, event, payload }).catch(
      (err: { code?: string }) => {
        // The agency was deleted after its secrets were cached: as unknown as any other.
        if (err.code === FOREIGN_KEY_VIOLATION) throw unknownWebhookUrl();
        throw err;
      },
    );
    // Not awaited: the event is stored, so the answer does not depend on Redis. A failed enqueue is
    // logged, and the calls sweeper enqueues events left unprocessed.
    if (eventId !== null) {
      this.addJobs([callEventJob(eventId)]).catch((err: Error) => this.enqueueFailed(eventId, err));
    }
  }

  private enqueueFailed(eventId: string, err: Error): void {
    this.logger.warn({
      msg: 'could not enqueue an ingested event; the sweeper will',
      eventId,
      err: err.message,
    });
  }

  /**
   * Checks the URL secret and the signature against the cached secrets. A request they reject, or a
   * signed one for an agency cached without a signing secret, is checked again against the agency as
   * stored now: a rotated URL secret or a newly registered signing secret is honoured at once.
   */
  private async authenticate(request: IngestRequest): Promise<IngestSecrets> {
    const { secrets, cached } = await this.secrets.ingestSecrets(request.agencyId);
    let outcome = this.verify(secrets, request);
    const maybeStale =
      outcome instanceof ApiError || (secrets?.signingSecret === null && request.signature !== undefined);
    if (cached && maybeStale) {
      outcome = this.verify(
        (await this.secrets.ingestSecrets(request.agencyId, { fresh: true })).secrets,
        request,
      );
    }
    if (outcome instanceof ApiError) throw outcome;
    return outcome;
  }

  private verify(secrets: IngestSecrets | null, request: IngestRequest): IngestSecrets | ApiError {
    // The same answer for an unknown agency and a wrong secret: nothing to learn by probing.
    if (!secrets || !timingSafeEqual(secretDigest(request.secret), secrets.ingestSecretDigest)) {
      return unknownWebhookUrl();
    }
    if (!secrets.signingSecret) return secrets;
    const check = verifyUltravoxSignature(
      [secrets.signingSecret],
      request.rawBody,
      request.signature,
      request.timestamp,
    );
    if (check.ok) return secrets;
    return new ApiError(
      HttpStatus.UNAUTHORIZED,
      'invalid_signature',
      `Ultravox signature rejected: ${check.reason}`,
    );
  }

  private parse(body: unknown): { event: string; callId: string } {
    const candidate = body as { event?: unknown; call?: { callId?: unknown } } | null;
    const event = candidate?.event;
    const callId = candidate?.call?.callId;
    if (typeof event !== 'string' || typeof callId !== 'string' || !event || !callId) {
      throw ApiError.badRequest('invalid_webhook', 'Expected a JSON body with "event" and "call.callId"');
    }
    return { event, callId };
  }

  /**
   * Several requests in one batch may carry the same (agency, callId, event): only the first is written,
   * the others are duplicates like a redelivery (one row, one job).
   */
  private async storeMany(events: readonly UltravoxEvent[]): Promise<(string | null)[]> {
    const seen = new Set<string>();
    const unique: UltravoxEvent[] = [];
    const uniqueIndex = events.map((e) => {
      const key = JSON.stringify([e.agencyId, e.callId, e.event]);
      if (seen.has(key)) return -1;
      seen.add(key);
      return unique.push(e) - 1;
    });
    const rows = await runSql<{ id: string; ord: string }>(this.dataSource, INSERT_EVENTS, [
      unique.map((e) => e.agencyId),
      unique.map((e) => e.callId),
      unique.map((e) => e.event),
      JSON.stringify(unique.map((e) => e.payload)),
    ]);
    const stored = byOrdinality(rows, unique.length);
    return uniqueIndex.map((u) => {
      const row = u === -1 ? null : stored[u];
      return row ? String(row.id) : null;
    });
  }
}
