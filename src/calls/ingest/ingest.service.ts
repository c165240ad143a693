import { InjectQueue } from '@nestjs/bullmq';
import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Queue } from 'bullmq';
import { isUUID } from 'class-validator';
import { createHash, timingSafeEqual } from 'node:crypto';
import { DataSource } from 'typeorm';
import { agencySecretContext } from '../../agencies/agencies.service';
import { SecretBox } from '../../common/crypto/secret-box';
import { ApiError } from '../../common/errors/api-error';
import { CallEventJob, JOBS, QUEUES } from '../../common/queues';
import { verifyUltravoxSignature } from '../../ultravox/ultravox-signature';

/** The Ultravox events that move a call along; any other is acknowledged and ignored (CONTRACT §5.2). */
export const HANDLED_EVENTS = new Set(['call.started', 'call.joined', 'call.ended', 'call.billed']);

/** jobId derived from the stored event, so the sweeper and ingest never queue one event twice. */
export function enqueueCallEvent(queue: Queue<CallEventJob>, eventId: string): Promise<unknown> {
  return queue.add(
    JOBS.processCallEvent,
    { eventId },
    {
      jobId: `event-${eventId}`,
      attempts: 8,
      backoff: { type: 'exponential', delay: 2_000 },
      removeOnComplete: 1000,
      removeOnFail: 5000,
    },
  );
}

export interface IngestRequest {
  agencyId: string;
  secret: string;
  rawBody: Buffer;
  body: unknown;
  signature?: string;
  timestamp?: string;
}

const sameSecret = (a: string, b: string) =>
  timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());

/** Ultravox → Switchboard: check, persist once, answer fast; the slow work happens in a job. */
@Injectable()
export class IngestService {
  private readonly logger = new Logger(IngestService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectQueue(QUEUES.callEvents) private readonly queue: Queue<CallEventJob>,
    private readonly secretBox: SecretBox,
  ) {}

  async ingest(request: IngestRequest): Promise<void> {
    const agency = await this.agency(request.agencyId);
    const ingestSecret = this.secretBox.decrypt(
      agency.ingest_secret_encrypted,
      agencySecretContext(agency.id, 'ingest_secret'),
    );
    if (!sameSecret(request.secret, ingestSecret)) throw this.unknown();
    if (agency.ultravox_signing_secret_encrypted) {
      const signingSecret = this.secretBox.decrypt(
        agency.ultravox_signing_secret_encrypted,
        agencySecretContext(agency.id, 'ultravox_signing_secret'),
      );
      const check = verifyUltravoxSignature(
        [signingSecret],
        request.rawBody,
        request.signature,
        request.timestamp,
      );
      if (!check.ok) {
        throw new ApiError(
          HttpStatus.UNAUTHORIZED,
          'invalid_signature',
          `Ultravox signature rejected: ${check.reason}`,
        );
      }
    }
    const { event, callId } = this.parse(request.body);
    if (!HANDLED_EVENTS.has(event)) return;
    const rows: { id: string }[] = await this.dataSource.query(
      `INSERT INTO call_events (agency_id, ultravox_call_id, source, event, payload) VALUES ($1, $2, 'ultravox', $3, $4)
       ON CONFLICT (agency_id, ultravox_call_id, event) WHERE source = 'ultravox' DO NOTHING RETURNING id`,
      [agency.id, callId, event, request.rawBody.toString('utf8')],
    );
    if (rows.length === 0) return;
    const eventId = String(rows[0].id);
    try {
      await enqueueCallEvent(this.queue, eventId);
    } catch (err) {
      // Stored, so not lost: the calls sweeper enqueues unprocessed events.
      this.logger.warn({
        msg: 'could not enqueue an ingested event; the sweeper will',
        eventId,
        err: (err as Error).message,
      });
    }
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

  private async agency(agencyId: string) {
    if (!isUUID(agencyId)) throw this.unknown();
    const [agency] = (await this.dataSource.query(
      `SELECT id, ingest_secret_encrypted, ultravox_signing_secret_encrypted FROM agencies WHERE id = $1`,
      [agencyId],
    )) as { id: string; ingest_secret_encrypted: string; ultravox_signing_secret_encrypted: string | null }[];
    if (!agency) throw this.unknown();
    return agency;
  }

  /** The same answer for an unknown agency and a wrong secret: nothing to learn by probing. */
  private unknown(): ApiError {
    return ApiError.notFound('not_found', 'Unknown webhook URL');
  }
}
