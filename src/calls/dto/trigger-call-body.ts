import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { isEmail, isObject, isUUID } from 'class-validator';
import type { FastifyRequest } from 'fastify';
import { ErrorDetail } from '../../common/errors/api-error';
import { validationFailed } from '../../common/errors/validation';
import { strictE164 } from '../../common/phone';
import { MAX_METADATA_BYTES, TriggerCallDto } from './trigger-call.dto';

const FIELDS: ReadonlySet<string> = new Set(['phone', 'name', 'email', 'agent_id', 'metadata', 'record']);

/**
 * The rules of TriggerCallDto's decorators, checked by hand: on the busiest route, class-transformer
 * and class-validator cost more CPU than the rest of the request's own code
 * (docs/benchmarks.md#trigger-body-checked-by-hand). trigger-call-body.spec.ts holds the two to the
 * same answers, messages included.
 */
export function parseTriggerCall(body: unknown): TriggerCallDto {
  const input = isPlainObject(body) ? body : {};
  const details: ErrorDetail[] = [];
  for (const field of Object.keys(input)) {
    if (!FIELDS.has(field)) details.push({ field, message: `${field} is not an accepted field` });
  }
  const fail = (field: string, messages: string[]) => {
    if (messages.length > 0) details.push({ field, message: messages.join('; ') });
  };
  const phone = typeof input.phone === 'string' ? strictE164(input.phone) : null;
  if (phone === null) fail('phone', ['phone must be an E.164 phone number such as +15551234567']);
  const { name, email, agent_id: agentId, metadata, record } = input;
  if (name != null) {
    fail('name', [
      ...maxLength('name', name, 200),
      ...(typeof name === 'string' ? [] : ['name must be a string']),
    ]);
  }
  if (email != null) {
    fail('email', [
      ...maxLength('email', email, 320),
      ...(isEmail(email) ? [] : ['email must be an email address']),
    ]);
  }
  if (agentId != null && !isUUID(agentId, 'all')) fail('agent_id', ['agent_id must be a UUID']);
  if (metadata != null) {
    fail('metadata', [
      ...(Buffer.byteLength(JSON.stringify(metadata) ?? '', 'utf8') <= MAX_METADATA_BYTES
        ? []
        : [`metadata must be at most ${MAX_METADATA_BYTES / 1024} KB of JSON`]),
      ...(isObject(metadata) ? [] : ['metadata must be a JSON object']),
    ]);
  }
  if (record != null && typeof record !== 'boolean') fail('record', ['record must be a boolean value']);
  if (details.length > 0) throw validationFailed(details);
  return { ...input, phone } as TriggerCallDto;
}

/** The request body as a TriggerCallDto; the global ValidationPipe leaves custom decorators alone. */
export const TriggerCallBody = createParamDecorator((_: unknown, ctx: ExecutionContext) =>
  parseTriggerCall(ctx.switchToHttp().getRequest<FastifyRequest>().body),
);

function maxLength(field: string, value: unknown, max: number): string[] {
  return typeof value === 'string' && value.length <= max
    ? []
    : [`${field} must be shorter than or equal to ${max} characters`];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
