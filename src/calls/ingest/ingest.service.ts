import { InjectQueue } from '@nestjs/bullmq';
import { HttpStatus, Inject, Injectable, Logger } from '@nestjs/common';
import { Queue } from 'bullmq';
import { timingSafeEqual } from 'node:crypto';
import { BulkJobs, CallEventJob, QUEUES } from '../../common/queues';
import { addInBulk } from '../../database/bulk-jobs';
import { ApiError } from '../../common/errors/api-error';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { verifyUltravoxSignature } from '../../ultravox/ultravox-signature';
import { AgencySecrets, IngestSecrets, secretDigest } from '../../agencies/agency-secrets';
import { callEventJob } from '../call-jobs';
import { UltravoxEventsRepository } from './ultravox-events.repository';

/** The Ultravox events that move a call along; any other is acknowledged and ignored (CONTRACT §5.2). */
export const HANDLED_EVENTS = new Set(['call.started', 'call.joined', 'call.ended', 'call.billed']);

export interface IngestRequest {
  agencyId: string;
  secret: string;
  rawBody: Buffer;
  body: unknown;
  signature?: string;
  timestamp?: string;
}

const FOREIGN_KEY_VIOLATION = '23503';

const unknownWebhookUrl = () => ApiError.notFound('not_found', 'Unknown webhook URL');

/** Ultravox → Switchboard: check, persist once, answer fast; the slow work happens in a job. */
@Injectable()
export class IngestService {
  private readonly logger = new Logger(IngestService.name);
  /** The jobs of an event-loop turn go to Redis in one addBulk. */
  private readonly addJobs: (jobs: BulkJobs<CallEventJob>) => Promise<void>;

  constructor(
    private readonly events: UltravoxEventsRepository,
    @InjectQueue(QUEUES.callEvents) queue: Queue<CallEventJob>,
    private readonly secrets: AgencySecrets,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.addJobs = addInBulk(queue, config.timeouts.redisMs);
  }

  async ingest(request: IngestRequest): Promise<void> {
    const agency = await this.authenticate(request);
    const { event, callId } = this.parse(request.body);
    if (!HANDLED_EVENTS.has(event)) return;
    const payload = request.rawBody.toString('utf8');
    const eventId = await this.events
      .store({ agencyId: agency.agencyId, callId, event, payload })
      .catch((err: { code?: string }) => {
        // The agency was deleted after its secrets were cached: as unknown as any other.
        if (err.code === FOREIGN_KEY_VIOLATION) throw unknownWebhookUrl();
        throw err;
      });
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
}
