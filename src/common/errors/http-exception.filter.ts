import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { ApiError } from './api-error';
import { AllowedMethods } from './allowed-methods';
import { Dependency, postgresStatementCanceled, unreachableDependency } from './dependency-outage';
import { ErrorBodyDto } from './error-body.dto';
import { codeForStatus, errorBody } from './error-body';

/** What a 503 for an unreachable Postgres or Redis asks the client to wait, in seconds. */
export const OUTAGE_RETRY_AFTER_SECONDS = 5;

const DEPENDENCY_NAMES: Record<Dependency, string> = { postgres: 'Postgres', redis: 'Redis' };

/** Anything carrying an HTTP status: Nest's HttpException, or a Fastify error such as a bad JSON body. */
function statusOf(exception: unknown): number {
  if (exception instanceof HttpException) return exception.getStatus();
  const status = (exception as { statusCode?: unknown })?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
}

function messageOf(exception: unknown, status: number): string {
  if (exception instanceof HttpException) {
    const response = exception.getResponse();
    if (typeof response === 'string') return response;
    const message = (response as { message?: unknown }).message;
    return Array.isArray(message) ? message.join('; ') : String(message ?? exception.message);
  }
  if (status < 500 && exception instanceof Error) return exception.message;
  return 'Internal server error';
}

/**
 * The one place that shapes error answers (CONTRACT §4). Nest routes handler errors, Fastify's own
 * (malformed JSON, wrong content type, body too large) and unmatched routes through it.
 */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  constructor(private readonly allowedMethods: AllowedMethods) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const reply = ctx.getResponse<FastifyReply>();
    void reply.send(this.toBody(exception, ctx.getRequest<FastifyRequest>(), reply));
  }

  private toBody(exception: unknown, request: FastifyRequest, reply: FastifyReply): ErrorBodyDto {
    const status = statusOf(exception);
    if (status === 404 && !(exception instanceof ApiError) && !request.routeOptions?.url) {
      const path = request.url.split('?')[0];
      const allowed = this.allowedMethods.for(path);
      // A route that takes this method but found nothing (a missing static file) is a 404, not a 405.
      if (allowed.length > 0 && !allowed.includes(request.method)) {
        void reply.header('Allow', allowed.join(', '));
        void reply.status(405);
        return errorBody('method_not_allowed', `${request.method} is not allowed on ${path}`, {
          hint: `Allowed: ${allowed.join(', ')}`,
        });
      }
      void reply.status(404);
      return errorBody('not_found', `No route ${request.method} ${path}`);
    }
    void reply.status(status);
    if (exception instanceof ApiError) {
      for (const [name, value] of Object.entries(exception.extra.headers ?? {}))
        void reply.header(name, value);
      return errorBody(exception.code, exception.message, exception.extra);
    }
    const dependency = status >= 500 ? unreachableDependency(exception) : undefined;
    if (dependency) return this.unavailable(dependency, exception, request, reply);
    if (status >= 500) {
      const errorId = randomUUID();
      const err =
        exception instanceof Error ? { type: exception.name, message: exception.message } : { exception };
      this.logger.error({
        msg: 'unhandled error',
        error_id: errorId,
        err,
        method: request.method,
        url: request.routeOptions?.url,
      });
      void reply.status(500);
      return {
        success: false,
        error: { code: 'internal_error', message: 'Internal server error', error_id: errorId },
      };
    }
    return errorBody(codeForStatus(status), messageOf(exception, status));
  }

  /** Postgres or Redis unreachable: 503 with Retry-After (CONTRACT §4), not a 500. */
  private unavailable(
    dependency: Dependency,
    exception: unknown,
    request: FastifyRequest,
    reply: FastifyReply,
  ): ErrorBodyDto {
    this.logger.warn({
      msg: 'service unavailable',
      dependency,
      err: exception instanceof Error ? exception.message : String(exception),
      method: request.method,
      url: request.routeOptions?.url,
    });
    void reply.status(503).header('Retry-After', String(OUTAGE_RETRY_AFTER_SECONDS));
    const message = postgresStatementCanceled(exception)
      ? 'Postgres did not finish in time (a statement ran past its limit)'
      : `${DEPENDENCY_NAMES[dependency]} is unreachable`;
    return errorBody('service_unavailable', message, {
      hint: `Retry after ${OUTAGE_RETRY_AFTER_SECONDS} s`,
    });
  }
}
