import { CanActivate, ExecutionContext, HttpStatus, Inject, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isUUID } from 'class-validator';
import { ApiError } from '../common/errors/api-error';
import { AuthContext } from './auth-context';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { RateLimiter, rateLimitHeaders } from '../common/rate-limit/rate-limiter';
import { AUTH_METADATA, AuthRequirement } from './auth.decorator';
import { hashApiKey, looksLikeApiKey } from './api-key-format';
import { API_KEY_LOOKUP, ApiKeyLookup, USER_LOOKUP, UserLookup } from './credentials';
import { InvalidTokenError, JwtService } from './jwt.service';

/**
 * Global guard: a route is reachable only as its @Auth/@Public declaration allows, and a route that
 * declared nothing is refused (test/route-inventory.e2e-spec.ts keeps every route declared).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly logger = new Logger(AuthGuard.name);

  constructor(
    private readonly reflector: Reflector,
    private readonly jwt: JwtService,
    private readonly rateLimiter: RateLimiter,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(USER_LOOKUP) private readonly users: UserLookup,
    @Inject(API_KEY_LOOKUP) private readonly apiKeys: ApiKeyLookup,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const requirement = this.reflector.getAllAndOverride<AuthRequirement | undefined>(AUTH_METADATA, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!requirement) {
      this.logger.error(
        `route ${context.getClass().name}.${context.getHandler().name} declares no auth; refused`,
      );
      throw ApiError.unauthorized('This route is not available');
    }
    // /metrics is checked by its own MetricsTokenGuard (it runs in worker-only processes too).
    if (requirement.public || requirement.metricsToken) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const token = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
    if (!token) throw ApiError.unauthorized();
    if (looksLikeApiKey(token)) {
      request.auth = await this.authenticateApiKey(token, requirement);
      if (this.config.apiRateLimitPerMinute > 0) {
        await this.applyRateLimit(request.auth.apiKeyId, context.switchToHttp().getResponse<FastifyReply>());
      }
    } else {
      request.auth = await this.authenticateUser(token, requirement);
    }
    return true;
  }

  /** API_RATE_LIMIT_PER_MINUTE (> 0) per agency API key; every answer carries the X-RateLimit-* headers. */
  private async applyRateLimit(apiKeyId: string, reply: FastifyReply): Promise<void> {
    const limit = this.config.apiRateLimitPerMinute;
    const result = await this.rateLimiter.hit(`api_key:${apiKeyId}`, limit);
    const headers = rateLimitHeaders(result);
    void reply.headers(headers);
    if (!result.allowed) {
      const retryAfter = String(result.retryAfterSeconds);
      throw new ApiError(
        HttpStatus.TOO_MANY_REQUESTS,
        'rate_limited',
        `More than ${limit} requests in a minute with this API key`,
        {
          hint: `Retry after ${retryAfter} s`,
          headers: { ...headers, 'Retry-After': retryAfter },
        },
      );
    }
  }

  private async authenticateApiKey(
    token: string,
    requirement: AuthRequirement,
  ): Promise<Extract<AuthContext, { kind: 'api_key' }>> {
    if (!requirement.apiKey)
      throw ApiError.unauthorized('This route needs a user token (JWT), not an API key');
    const key = await this.apiKeys.findActiveKey(hashApiKey(token));
    if (!key) throw ApiError.unauthorized('Unknown or revoked API key');
    if (!key.apiEnabled) throw ApiError.forbidden('api_disabled', 'API access is disabled for this agency');
    return { kind: 'api_key', agencyId: key.agencyId, apiKeyId: key.id };
  }

  private async authenticateUser(token: string, requirement: AuthRequirement): Promise<AuthContext> {
    let userId: string;
    try {
      userId = await this.jwt.verify(token);
    } catch (err) {
      if (err instanceof InvalidTokenError) throw ApiError.unauthorized(`Invalid token: ${err.message}`);
      throw err;
    }
    const user = isUUID(userId) ? await this.users.findUser(userId) : null;
    if (!user)
      throw ApiError.forbidden('not_agency_user', 'The token is valid but its user belongs to no agency');
    if (!requirement.roles) {
      throw ApiError.unauthorized('This route needs an agency API key, not a user token (JWT)');
    }
    if (!requirement.roles.includes(user.role)) {
      throw ApiError.forbidden(
        'insufficient_role',
        `This action needs one of: ${requirement.roles.join(', ')}`,
      );
    }
    return { kind: 'user', agencyId: user.agencyId, userId: user.id, role: user.role };
  }
}
