import fc from 'fast-check';

/** The parts of an OpenAPI 3 document the fuzzer reads. */
export interface OpenApiSchema {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: unknown[];
  nullable?: boolean;
  properties?: Record<string, OpenApiSchema>;
  required?: string[];
  items?: OpenApiSchema;
  allOf?: OpenApiSchema[];
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxLength?: number;
}

interface OpenApiParameter {
  name: string;
  in: 'path' | 'query' | 'header';
  schema?: OpenApiSchema;
}

interface OpenApiOperation {
  parameters?: OpenApiParameter[];
  requestBody?: { content: Record<string, { schema?: OpenApiSchema }> };
  security?: Record<string, string[]>[];
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, OpenApiSchema> };
}

/** One operation of the document, as the fuzzer drives it. */
export interface Operation {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT';
  /** As in the document: `/api/v1/agents/{id}`. */
  path: string;
  pathParams: string[];
  query: { name: string; schema: OpenApiSchema }[];
  headers: string[];
  body: OpenApiSchema | null;
  /** Content types the operation documents for its body. */
  consumes: string[];
}

/** A request the fuzzer sends; printed as is when a property fails, so it can be read and replayed. */
export interface FuzzRequest {
  method: Operation['method'];
  /** The path as sent: parameters already substituted and encoded (malformed encodings on purpose). */
  path: string;
  credential: string;
  query: Record<string, string | string[]>;
  headers: Record<string, string>;
  /** Raw text of the body, sent byte for byte (undefined: no body). */
  body?: string;
  contentType?: string;
}

/** Ids the fuzzer may put in paths and bodies: the caller's own resources and another agency's. */
export interface IdPool {
  own: string[];
  foreign: string[];
}

const HTTP_METHODS = ['get', 'post', 'patch', 'delete', 'put'];

export function operationsOf(doc: OpenApiDocument): Operation[] {
  const resolve = schemaResolver(doc);
  return Object.entries(doc.paths).flatMap(([path, byMethod]) =>
    Object.entries(byMethod)
      .filter(([method]) => HTTP_METHODS.includes(method))
      .map(([method, op]): Operation => {
        const params = op.parameters ?? [];
        const content = op.requestBody?.content ?? {};
        const json = content['application/json']?.schema;
        return {
          method: method.toUpperCase() as Operation['method'],
          path,
          pathParams: params.filter((p) => p.in === 'path').map((p) => p.name),
          query: params
            .filter((p) => p.in === 'query')
            .map((p) => ({ name: p.name, schema: resolve(p.schema ?? { type: 'string' }) })),
          headers: params.filter((p) => p.in === 'header').map((p) => p.name),
          body: json ? resolve(json) : null,
          consumes: Object.keys(content),
        };
      }),
  );
}

/** `$ref` and single-`allOf` wrappers (how @nestjs/swagger writes a nested DTO) resolved to the schema. */
export function schemaResolver(doc: OpenApiDocument): (schema: OpenApiSchema) => OpenApiSchema {
  const resolve = (schema: OpenApiSchema): OpenApiSchema => {
    if (schema.$ref) {
      const name = schema.$ref.split('/').pop() ?? '';
      const target = doc.components?.schemas?.[name];
      if (!target) throw new Error(`OpenAPI document: unresolved ${schema.$ref}`);
      return resolve({ ...target, nullable: schema.nullable ?? target.nullable });
    }
    if (schema.allOf?.length === 1) {
      const { allOf, ...rest } = schema;
      const inner = resolve(allOf[0]);
      return { ...inner, ...rest, type: inner.type ?? rest.type, properties: inner.properties };
    }
    const properties = schema.properties
      ? Object.fromEntries(Object.entries(schema.properties).map(([k, v]) => [k, resolve(v)]))
      : undefined;
    const items = schema.items ? resolve(schema.items) : undefined;
    return { ...schema, properties, items };
  };
  return resolve;
}

// ---- values -------------------------------------------------------------------------------------

/** Strings no route may store, and values of every wrong kind. */
const unstorable = fc.constantFrom('a\u0000b', '\u0000', 'x\ud800', '\udc00y', 'ok\ud83c', '\u0000\ud800');
const impossibleDates = fc.constantFrom(
  '2026-02-30T10:00:00.000Z',
  '2026-13-01T00:00:00Z',
  '2026-01-01T24:00:00Z',
  '0000-01-01T00:00:00Z',
  '2026-01-01T00:00:00+16:00',
  '99999-01-01T00:00:00Z',
  'yesterday',
);
const awkwardStrings = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    'null',
    'undefined',
    '[]',
    '{}',
    '0',
    '-1',
    '1e999',
    'true',
    '__proto__',
    'constructor',
  ),
  fc.constantFrom(
    '+1 (555) 123-4572',
    '+15551234567\n',
    '+999999999999999999',
    'sip:+1555',
    'javascript:alert(1)',
  ),
  fc.constantFrom(
    'http://127.0.0.1/',
    'https://[64:ff9b::a9fe:a9fe]/',
    'https://169.254.169.254/',
    'ftp://x',
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.integer({ min: 201, max: 20_000 }).map((n) => 'x'.repeat(n)),
);
/** Nested past the edge bound (and far past it); built iteratively, stringified by the sender. */
const deepValue = fc.constantFrom(40, 2_000).map((levels) => ({ __deep: levels }));

export function wrongValue(ids: IdPool): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constantFrom(null, true, false, 0, -1, 1.5, 1e308, -0, 2 ** 53 + 1),
    fc.constantFrom([], {}, [null], [[]], { '': null }, [{}]),
    { weight: 3, arbitrary: unstorable },
    impossibleDates,
    { weight: 2, arbitrary: awkwardStrings },
    fc.constantFrom(...ids.foreign, '00000000-0000-0000-0000-000000000000'),
    deepValue,
    fc.dictionary(unstorable, fc.jsonValue({ maxDepth: 1 }), { minKeys: 1, maxKeys: 2 }),
    fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
    fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
  );
}

/** A value the schema accepts (or nearly: the fuzzer needs mostly valid bodies to reach deeper checks). */
export function validValue(schema: OpenApiSchema, name: string, ids: IdPool): fc.Arbitrary<unknown> {
  const base = validOf(schema, name, ids);
  return schema.nullable ? fc.oneof(base, fc.constant(null)) : base;
}

function validOf(schema: OpenApiSchema, name: string, ids: IdPool): fc.Arbitrary<unknown> {
  if (schema.enum) return fc.constantFrom(...schema.enum);
  if (/phone/.test(name)) return fc.constantFrom('+15551234567', '+447700900123', '+15557654321');
  if (name === 'timezone') return fc.constantFrom('UTC', 'America/New_York', 'Europe/Paris');
  if (name === 'start' || name === 'end') return fc.constantFrom('09:00', '17:30', '00:00', '23:59');
  if (/url/.test(name))
    return fc.constantFrom('https://example.com/hooks', 'https://hooks.example.org/a?b=c');
  if (name === 'since' || name === 'until' || schema.format === 'date-time') {
    return fc
      .date({ min: new Date('2026-01-01'), max: new Date('2027-01-01'), noInvalidDate: true })
      .map((d) => d.toISOString());
  }
  switch (schema.type) {
    case 'string':
      if (schema.format === 'uuid' || name.endsWith('_id')) {
        return fc.oneof(fc.constantFrom(...ids.own), fc.uuid());
      }
      if (schema.format === 'email' || name === 'email') return fc.emailAddress();
      return fc.string({ minLength: 1, maxLength: Math.min(schema.maxLength ?? 30, 30) });
    case 'number':
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -5, max: Math.min(schema.maximum ?? 1_000, 1_000_000) });
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(schema.items ? validOf(schema.items, name, ids) : fc.string(), {
        minLength: schema.minItems ?? 0,
        maxLength: 3,
      });
    case 'object':
    default:
      if (schema.properties) return validObject(schema, ids);
      return fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), {
        maxKeys: 4,
      });
  }
}

function validObject(schema: OpenApiSchema, ids: IdPool): fc.Arbitrary<Record<string, unknown>> {
  const properties = schema.properties ?? {};
  const record = Object.fromEntries(
    Object.entries(properties).map(([key, child]) => [key, validValue(child, key, ids)]),
  );
  return fc.record(record, { requiredKeys: schema.required ?? [] }) as fc.Arbitrary<Record<string, unknown>>;
}

/**
 * A body for `schema` that is wrong in at least one way: a field of the wrong kind (or unstorable, or
 * too deep, or another agency's id), a required field left out, a field the route does not know, or a
 * body that is not an object at all.
 */
export function malformedBody(schema: OpenApiSchema, ids: IdPool): fc.Arbitrary<unknown> {
  const keys = Object.keys(schema.properties ?? {});
  const valid = validValue({ ...schema, nullable: false }, 'body', ids) as fc.Arbitrary<
    Record<string, unknown>
  >;
  const strategies: fc.Arbitrary<unknown>[] = [
    // The whole body of a wrong kind.
    wrongValue(ids),
    // An unknown field, beside valid ones.
    fc
      .tuple(valid, fc.string({ minLength: 1, maxLength: 12 }), wrongValue(ids))
      .map(([body, key, value]) =>
        isPlainObject(body) && !keys.includes(key) ? { ...body, [key]: value } : body,
      ),
  ];
  if (keys.length > 0) {
    // One to three known fields of a wrong kind.
    strategies.push(
      fc
        .tuple(
          valid,
          fc.subarray(keys, { minLength: 1, maxLength: Math.min(3, keys.length) }),
          fc.array(wrongValue(ids), { minLength: 3, maxLength: 3 }),
        )
        .map(([body, broken, values]) => ({
          ...(isPlainObject(body) ? body : {}),
          ...Object.fromEntries(broken.map((key, i) => [key, values[i]])),
        })),
    );
    // A nested object's fields broken (calling_window.start, retry.on, …).
    const nested = keys.filter((key) => schema.properties?.[key].properties);
    if (nested.length > 0) {
      strategies.push(
        fc.tuple(valid, fc.constantFrom(...nested)).chain(([body, key]) =>
          malformedBody(schema.properties?.[key] ?? {}, ids).map((inner) => ({
            ...(isPlainObject(body) ? body : {}),
            [key]: inner,
          })),
        ),
      );
    }
  }
  if ((schema.required ?? []).length > 0) {
    strategies.push(
      fc.tuple(valid, fc.constantFrom(...(schema.required ?? []))).map(([body, key]) => {
        const copy: Record<string, unknown> = { ...(isPlainObject(body) ? body : {}) };
        delete copy[key];
        return copy;
      }),
    );
  }
  if (schema.type === 'array' && schema.items) {
    strategies.push(fc.array(malformedBody(schema.items, ids), { minLength: 1, maxLength: 3 }));
  }
  return fc.oneof(...strategies);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON text of a generated value; `{__deep: n}` becomes n nested arrays, written without recursion. */
export function toJsonText(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) =>
    isPlainObject(v) && typeof v.__deep === 'number' ? { __deepMarker: v.__deep } : v,
  ).replace(/\{"__deepMarker":(\d+)\}/g, (_, n: string) => '['.repeat(Number(n)) + ']'.repeat(Number(n)));
}

// ---- requests -----------------------------------------------------------------------------------

/** Page cursors: garbage, and well-formed ones holding impossible positions. */
const cursors = fc.oneof(
  fc.constantFrom('', 'x', '!!!', 'e30', 'bnVsbA'),
  fc
    .record({
      t: fc.oneof(impossibleDates, fc.constantFrom(123, null, '2026-01-01T00:00:00.000Z')),
      i: fc.oneof(fc.uuid(), fc.constantFrom('x', 1, null, '\u0000')),
    })
    .map((position) => Buffer.from(JSON.stringify(position)).toString('base64url')),
  fc.string({ maxLength: 60 }).map((text) => Buffer.from(text).toString('base64url')),
);

const queryValue = (schema: OpenApiSchema, name: string, ids: IdPool): fc.Arbitrary<string | string[]> =>
  fc.oneof(
    validValue(schema, name, ids).map(String),
    fc.oneof(unstorable, impossibleDates, awkwardStrings),
    fc.array(fc.string({ maxLength: 6 }), { minLength: 2, maxLength: 3 }),
    fc.constantFrom(...ids.foreign),
  );

/** Percent-encodes like encodeURIComponent, but a lone surrogate (which it refuses) goes as CESU-8 bytes. */
export function encodeLoosely(text: string): string {
  return [...text]
    .map((char) => (/[\ud800-\udfff]/.test(char) ? '%ED%A0%80' : encodeURIComponent(char)))
    .join('');
}

const pathValue = (ids: IdPool): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...ids.own).map(encodeURIComponent) },
    { weight: 2, arbitrary: fc.constantFrom(...ids.foreign).map(encodeURIComponent) },
    { weight: 1, arbitrary: fc.uuid() },
    { weight: 2, arbitrary: awkwardStrings.map((s) => encodeLoosely(s) || '%20') },
    { weight: 1, arbitrary: unstorable.map(encodeLoosely) },
    { weight: 1, arbitrary: fc.constantFrom('%E0%A4%A', '%', '%%', '..', '.', '%2F', 'a'.repeat(150)) },
  );

/** Every way the fuzzer sends an operation: its parameters, credential and body, malformed in some way. */
export function requestFor(op: Operation, ids: IdPool, credentials: string[]): fc.Arbitrary<FuzzRequest> {
  const query = Object.fromEntries(
    [...op.query, ...(op.method === 'GET' ? pagination : [])].map(({ name, schema }) => [
      name,
      name === 'cursor' ? cursors : queryValue(schema, name, ids),
    ]),
  );
  const pathParams = Object.fromEntries(op.pathParams.map((name) => [name, pathValue(ids)]));
  const headers = fc.record(
    Object.fromEntries(
      op.headers.map((name) => [
        name,
        fc.oneof(
          fc.string({ minLength: 1, maxLength: 20 }).map((s) => s.replace(/[^\x21-\x7e]/g, 'x') || 'x'),
          fc.constantFrom('x'.repeat(300), 't=1,v1=abc', '1700000000', '   '),
        ),
      ]),
    ),
    { requiredKeys: [] },
  );
  const body: fc.Arbitrary<Pick<FuzzRequest, 'body' | 'contentType'>> = op.body
    ? fc.oneof(
        {
          weight: 6,
          arbitrary: malformedBody(op.body, ids).map((b) => ({
            body: toJsonText(b),
            contentType: 'application/json',
          })),
        },
        {
          weight: 1,
          arbitrary: fc.record({
            body: fc.constantFrom(
              'name=x&phone=%2B15551234567',
              '{"name": "x"',
              '',
              'phone,name\n+15551234567,x\n',
              '\u0000',
            ),
            contentType: fc.constantFrom(
              'application/x-www-form-urlencoded',
              'text/plain',
              'application/json',
              'text/csv',
              'application/xml',
            ),
          }),
        },
      )
    : fc.oneof(
        fc.constant({}),
        fc.constant({ body: '{"unexpected": true}', contentType: 'application/json' }),
      );
  return fc
    .record({
      params: fc.record(pathParams),
      query: fc.record(query, { requiredKeys: [] }),
      headers,
      body,
      // The first two (the credentials that reach the routes' own checks) four times as often.
      credential: fc.oneof(
        ...credentials.map((credential, i) => ({
          weight: i < 2 ? 4 : 1,
          arbitrary: fc.constant(credential),
        })),
      ),
    })
    .map(({ params, query: q, headers: h, body: b, credential }) => ({
      method: op.method,
      path: op.path.replace(/\{(\w+)\}/g, (_, name: string) => params[name]),
      credential,
      query: q as Record<string, string | string[]>,
      headers: h as Record<string, string>,
      ...b,
    }));
}

const pagination = [
  { name: 'limit', schema: { type: 'integer', minimum: 1, maximum: 100 } },
  { name: 'cursor', schema: { type: 'string' } },
];
