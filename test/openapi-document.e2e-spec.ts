import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import request from 'supertest';
import { OPENAPI_ENV } from '../src/openapi';
import { startTestApp, TestApp } from './support/test-app';

type Document = { paths: Record<string, Record<string, unknown>> } & Record<string, unknown>;

/** Where two documents differ, one line per top-level key or operation, so a review sees what moved. */
function differences(built: Document, committed: Document): string[] {
  const lines: string[] = [];
  for (const key of new Set([...Object.keys(built), ...Object.keys(committed)])) {
    if (key !== 'paths' && !isDeepStrictEqual(built[key], committed[key])) lines.push(key);
  }
  for (const path of new Set([...Object.keys(built.paths), ...Object.keys(committed.paths)])) {
    const [a, b] = [built.paths[path] ?? {}, committed.paths[path] ?? {}];
    for (const method of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (!isDeepStrictEqual(a[method], b[method])) lines.push(`${method.toUpperCase()} ${path}`);
    }
  }
  return lines;
}

describe('the committed OpenAPI document', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ PUBLIC_BASE_URL: OPENAPI_ENV.PUBLIC_BASE_URL });
  });
  afterAll(() => t.close());

  it('openapi.json is the document the running build serves at /docs-json', async () => {
    const built = (await request(t.url).get('/docs-json').expect(200)).body as Document;
    const committed = JSON.parse(readFileSync(join(__dirname, '..', 'openapi.json'), 'utf8')) as Document;
    const changed = differences(built, committed);
    if (changed.length > 0) {
      throw new Error(
        `openapi.json differs from this build's document in: ${changed.join(', ')}.\n` +
          'Run `npm run openapi` and commit openapi.json (the API changed; reviewers see it in the diff).',
      );
    }
  });

  it('names the server it runs at, and the API key scheme is not a JWT', async () => {
    const doc = (await request(t.url).get('/docs-json').expect(200)).body as {
      servers: { url: string }[];
      components: { securitySchemes: Record<string, { bearerFormat?: string }> };
    };
    expect(doc.servers).toEqual([{ url: OPENAPI_ENV.PUBLIC_BASE_URL }]);
    expect(doc.components.securitySchemes.api_key.bearerFormat).toBeUndefined();
    expect(doc.components.securitySchemes.jwt.bearerFormat).toBe('JWT');
  });
});
