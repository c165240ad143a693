import {
  applyDecorators,
  createParamDecorator,
  ExecutionContext,
  SetMetadata,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { ROLES, Role } from './roles';
import { ErrorBodyDto } from '../common/errors/error-body.dto';
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
export function Auth(requirement: Omit<AuthRequirement, 'public'>) {
  const decorators: Array<ClassDecorator & MethodDecorator> = [SetMetadata(AUTH_METADATA, requirement)];
  if (requirement.roles) decorators.push(ApiBearerAuth(JWT_SCHEME));
  if (requirement.apiKey) decorators.push(ApiBearerAuth(API_KEY_SCHEME));
  const who = [
    requirement.roles ? `a user token (${requirement.roles.join(', ')})` : null,
    requirement.apiKey ? 'the agency API key' : null,
  ].filter(Boolean);
  decorators.push(
    ApiUnauthorizedResponse({ type: ErrorBodyDto, description: `Missing or invalid ${who.join(' or ')}` }),
    ApiForbiddenResponse({
      type: ErrorBodyDto,
      description: 'Not allowed for this caller (role, or API access disabled)',
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
    ApiUnauthorizedResponse({
      type: ErrorBodyDto,
      description: 'METRICS_TOKEN is set and the request does not carry it',
    }),
  );

export const CurrentAuth = createParamDecorator((_: unknown, ctx: ExecutionContext): AuthContext => {
  const auth = ctx.switchToHttp().getRequest<FastifyRequest>().auth;
  if (!auth) throw new Error('CurrentAuth used on a route without authentication');
  return auth;
});
