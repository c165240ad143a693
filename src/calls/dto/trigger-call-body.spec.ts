import { ArgumentMetadata, ValidationPipe } from '@nestjs/common';
import { ApiError } from '../../common/errors/api-error';
import { flattenValidationErrors, validationFailed } from '../../common/errors/validation';
import { parseTriggerCall } from './trigger-call-body';
import { TriggerCallDto } from './trigger-call.dto';

// The global pipe of app.module.ts: what parseTriggerCall must answer exactly like.
const pipe = new ValidationPipe({
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  exceptionFactory: (errors) => validationFailed(flattenValidationErrors(errors)),
});
const asBody: ArgumentMetadata = { type: 'body', metatype: TriggerCallDto };

async function outcome(run: () => object | Promise<object>): Promise<unknown> {
  try {
    return { ok: { ...(await run()) } };
  } catch (err) {
    if (err instanceof ApiError)
      return { status: err.getStatus(), code: err.code, message: err.message, extra: err.extra };
    throw err;
  }
}

const AGENT = '3f0c6c1e-8b1a-4c36-9a0e-2f5b8d1c7e42';
const bodies: Record<string, unknown> = {
  'phone only': { phone: '+15551234567' },
  'every field': {
    phone: '+15551234567',
    name: 'Ada',
    email: 'ada@example.com',
    agent_id: AGENT,
    metadata: { b: 1, a: [2, { c: null }] },
    record: true,
  },
  'a formatted international number': { phone: '+1 (555) 123-4567' },
  'a phone with a trailing newline': { phone: '+15551234567\n' },
  'a phone with spaces around it': { phone: ' +15551234567 ' },
  'nulls for the optional fields': {
    phone: '+442071838750',
    name: null,
    email: null,
    agent_id: null,
    metadata: null,
    record: null,
  },
  'no body': undefined,
  'a null body': null,
  'an empty body': {},
  'phone missing': { name: 'Ada' },
  'phone not a string': { phone: 15551234567 },
  'phone without a country code': { phone: '5551234567' },
  'phone with letters': { phone: '+1555CALLNOW' },
  'phone too short': { phone: '+1555' },
  'bad email': { phone: '+15551234567', email: 'not-an-email' },
  'email too long': { phone: '+15551234567', email: `${'a'.repeat(310)}@example.com` },
  'email a number': { phone: '+15551234567', email: 42 },
  'name a number': { phone: '+15551234567', name: 42 },
  'name too long': { phone: '+15551234567', name: 'x'.repeat(201) },
  'name of 200 characters': { phone: '+15551234567', name: 'x'.repeat(200) },
  'agent_id not a uuid': { phone: '+15551234567', agent_id: 'agent-1' },
  'agent_id a number': { phone: '+15551234567', agent_id: 7 },
  'metadata an array': { phone: '+15551234567', metadata: [1, 2] },
  'metadata a string': { phone: '+15551234567', metadata: 'x' },
  'metadata of 16 KB': { phone: '+15551234567', metadata: { k: 'x'.repeat(16 * 1024 - 8) } },
  'metadata over 16 KB': { phone: '+15551234567', metadata: { k: 'x'.repeat(16 * 1024 - 7) } },
  'metadata a long array': { phone: '+15551234567', metadata: ['x'.repeat(17 * 1024)] },
  'record false': { phone: '+15551234567', record: false },
  'record a string': { phone: '+15551234567', record: 'true' },
  'record a number': { phone: '+15551234567', record: 1 },
  'an unknown field': { phone: '+15551234567', priority: 'high' },
  'several bad fields at once': {
    phone: 'nope',
    email: 'x',
    agent_id: 'y',
    metadata: 3,
    record: 'y',
    extra: 1,
    other: 2,
  },
};

describe('parseTriggerCall', () => {
  it.each(Object.entries(bodies))(
    'answers like the ValidationPipe on TriggerCallDto: %s',
    async (_, body) => {
      const expected = await outcome(() => pipe.transform(body, asBody));
      expect(await outcome(() => parseTriggerCall(body))).toEqual(expected);
    },
  );
});
