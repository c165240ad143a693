import {
  applyDecorators,
  createParamDecorator,
  ExecutionContext,
  SetMetadata,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { ROLES, Role } from './roles';
import { ApiErrors } from '../common/errors/api-error-responses.decorator';
import type { AuthContext } from './auth-context';
import { MetricsTokenGuard } from './metrics-token.guard';

export const AUTH_METADATA = 'switchboard:auth';
export const JWT_SCHEME = 'jwt';
export const API_KEY_SCHEME = 'api_key';
export const METRICS_SCHEME = 'metrics_token';

export interface AuthRequirement {
  /** Dashboard users (JWT) with one of these roles may call; omit to refuse JWTs. */
  roles?: readonly Role[];
  /** Agencies' programs may call with their API key. */
  apiKey?: boolean;
  public?: boolean;
  /** The operator's METRICS_TOKEN when one is set, anyone otherwise (checked by MetricsTokenGuard). */
  metricsToken?: boolean;
}

export const ANY_ROLE: readonly Role[] = ROLES;
/** Owners and admins write; members only read (CONTRACT §3). */
export const WRITE_ROLES: readonly Role[] = ['agency_owner', 'agency_admin'];
export const OWNER_ONLY: readonly Role[] = ['agency_owner'];

/** Declares who may call a route, and documents it in OpenAPI at the same time. */
export function Auth(requirement: Omit<AuthRequirement, 'public'>): MethodDecorator {
  const decorators: MethodDecorator[] = [SetMetadata(AUTH_METADATA, requirement)];
  if (requirement.roles) decorators.push(ApiBearerAuth(JWT_SCHEME));
  if (requirement.apiKey) decorators.push(ApiBearerAuth(API_KEY_SCHEME));
  // What the guard answers: any valid JWT of a user outside every agency is 403 not_agency_user, a
  // role outside `roles` 403 insufficient_role; an API key may be disabled or over its rate limit.
  const forbidden = ['not_agency_user'];
  if (requirement.roles && requirement.roles.length < ROLES.length) forbidden.push('insufficient_role');
  if (requirement.apiKey) forbidden.push('api_disabled');
  decorators.push(
    ApiErrors({
      401: ['unauthorized'],
      403: forbidden,
      ...(requirement.apiKey ? { 429: ['rate_limited'] } : {}),
    }),
  );
  return applyDecorators(...decorators);
}

/** A route anyone may call (health, Ultravox's webhooks, which authenticate by URL secret and signature). */
export const Public = () => SetMetadata(AUTH_METADATA, { public: true } satisfies AuthRequirement);

/** GET /metrics: the operator's METRICS_TOKEN when one is set; documented as its own bearer scheme. */
export const MetricsAuth = () =>
  applyDecorators(
    SetMetadata(AUTH_METADATA, { metricsToken: true } satisfies AuthRequirement),
    UseGuards(MetricsTokenGuard),
    ApiBearerAuth(METRICS_SCHEME),
    ApiErrors({ 401: ['unauthorized'] }),
  );

export const CurrentAuth = createParamDecorator((_: unknown, ctx: ExecutionContext): AuthContext => {
  const auth = ctx.switchToHttp().getRequest<FastifyRequest>().auth;
  if (!auth) throw new Error('CurrentAuth used on a route without authentication');
  return auth;
});
