import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/**
 * One request header's value (undefined when absent). Nest's `@Headers(name)` would do, but the Swagger
 * plugin documents every `@Headers` parameter as a required header under its lowercase name, beside
 * the route's own `@ApiHeader`; this one leaves the documentation to the route.
 */
export const RequestHeader = createParamDecorator(
  (name: string, ctx: ExecutionContext): string | undefined => {
    const value = ctx.switchToHttp().getRequest<FastifyRequest>().headers[name.toLowerCase()];
    return Array.isArray(value) ? value.join(', ') : value;
  },
);
