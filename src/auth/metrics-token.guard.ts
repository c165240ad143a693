import { CanActivate, ExecutionContext, HttpStatus, Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import { ApiError } from '../common/errors/api-error';
import { APP_CONFIG, AppConfig } from '../config/app-config';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * GET /metrics: with METRICS_TOKEN set, only `Authorization: Bearer <METRICS_TOKEN>` may scrape; without
 * it, anyone may. A route guard rather than the global AuthGuard, because a worker-only process serves
 * /metrics too and has no agencies, users or API keys to authenticate.
 */
@Injectable()
export class MetricsTokenGuard implements CanActivate {
  private readonly expected?: Buffer;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.expected = config.metrics.token === undefined ? undefined : digest(config.metrics.token);
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) return true;
    const header = context.switchToHttp().getRequest<FastifyRequest>().headers.authorization ?? '';
    const token = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
    // Digests of equal length, compared in constant time: the answer says nothing about the token.
    if (token && timingSafeEqual(digest(token), this.expected)) return true;
    throw new ApiError(HttpStatus.UNAUTHORIZED, 'unauthorized', 'Missing or invalid metrics token', {
      hint: 'Send "Authorization: Bearer <METRICS_TOKEN>"',
    });
  }
}
