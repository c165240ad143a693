import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface Operation {
  method: string;
  template: string;
  pattern: RegExp;
  responses: Record<string, { content?: Record<string, { schema?: JsonObject }> }>;
}

/** An answer as the test client saw it. */
export interface Answer {
  method: string;
  url: string;
  status: number;
  contentType: string | undefined;
  body: unknown;
  text: string | undefined;
}

/**
 * OpenAPI 3.0 schema → JSON Schema for Ajv: `nullable: true` admits null (in 3.0 it only widens
 * `type`, which is how the document is written: enums list null, nullable objects are written out).
 * Strict: an object with declared properties admits no others (an answer's undocumented field fails),
 * except the branches of an `allOf`, which each declare a part.
 */
function toJsonSchema(node: Json, inAllOf = false): Json {
  if (Array.isArray(node)) return node.map((item) => toJsonSchema(item, inAllOf));
  if (node === null || typeof node !== 'object') return node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'example' || key === 'examples') continue;
    out[key] = key === 'properties' ? mapValues(value as JsonObject) : toJsonSchema(value, key === 'allOf');
  }
  if (out.properties && out.additionalProperties === undefined && !inAllOf) out.additionalProperties = false;
  if (out.nullable === true) {
    delete out.nullable;
    return { anyOf: [out, { type: 'null' }] };
  }
  delete out.nullable;
  return out;
}

function mapValues(properties: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, toJsonSchema(v)]));
}

/**
 * The answer of a server where no route matched (a worker-only process's port has no API routes):
 * not an answer of the operation whose path it happens to share.
 */
function isRouteMiss(answer: Answer): boolean {
  const error = (answer.body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  return (
    answer.status === 404 &&
    error?.code === 'not_found' &&
    typeof error.message === 'string' &&
    error.message.startsWith('No route ')
  );
}

/**
 * Checks real answers against the committed OpenAPI document (openapi.json, kept equal to the build's
 * by test/openapi-document.e2e-spec.ts): the status is one the operation documents, a JSON body
 * matches its schema, an error's code is in that status's enum. Requests that match no documented
 * operation (unknown routes, 405s, Bull Board, /docs, the simulator, a port without the API) are not
 * this document's business.
 */
export class OpenApiResponses {
  private readonly operations: Operation[];
  private readonly ajv: Ajv;
  private readonly components: Json;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(documentPath = join(__dirname, '..', '..', 'openapi.json')) {
    const document = JSON.parse(readFileSync(documentPath, 'utf8')) as {
      paths: Record<
        string,
        Record<string, Operation['responses'] extends infer R ? { responses: R } : never>
      >;
      components: { schemas: JsonObject };
    };
    this.components = toJsonSchema({ schemas: document.components.schemas });
    this.ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(this.ajv);
    this.operations = Object.entries(document.paths).flatMap(([template, byMethod]) =>
      Object.entries(byMethod).map(([method, operation]) => ({
        method: method.toUpperCase(),
        template,
        // `{id}` matches one path segment; literal parts are matched as written.
        pattern: new RegExp(
          `^${template
            .split(/\{[^}]+\}/)
            .map((part) => part.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))
            .join('[^/]+')}$`,
        ),
        responses: operation.responses,
      })),
    );
  }

  /** Why this answer breaks the document, or null when it keeps to it (or no operation matches). */
  problemWith(answer: Answer): string | null {
    const path = new URL(answer.url).pathname;
    const operation = this.operations.find(
      (o) => o.method === answer.method.toUpperCase() && o.pattern.test(path),
    );
    if (!operation || isRouteMiss(answer)) return null;
    const where = `${answer.method.toUpperCase()} ${operation.template} answered ${answer.status}`;
    const response = operation.responses[String(answer.status)];
    if (!response) {
      return `${where}, a status the OpenAPI document does not list for it (documented: ${Object.keys(operation.responses).join(', ')}); body: ${answer.text?.slice(0, 300)}`;
    }
    // Another media type the operation declares (e.g. the usage report's text/csv) is not JSON-checked.
    const type = (answer.contentType ?? '').split(';')[0].trim();
    if (type !== 'application/json' && Object.keys(response.content ?? {}).includes(type)) return null;
    const media = response.content?.['application/json'];
    if (!media?.schema) return null;
    if (!/^application\/json\b/.test(answer.contentType ?? '')) {
      return `${where} with content-type ${answer.contentType}, where the document says application/json`;
    }
    const validate = this.validator(`${answer.method} ${operation.template} ${answer.status}`, media.schema);
    if (validate(answer.body)) return null;
    const errors = (validate.errors ?? [])
      .map(
        (e) => `${e.instancePath || '(body)'} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`,
      )
      .join('; ');
    return `${where} with a body that does not match the OpenAPI document: ${errors}; body: ${JSON.stringify(answer.body).slice(0, 500)}`;
  }

  private validator(key: string, schema: JsonObject): ValidateFunction {
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile({ allOf: [toJsonSchema(schema)], components: this.components } as object);
      this.compiled.set(key, validate);
    }
    return validate;
  }
}
