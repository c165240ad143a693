import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { MetadataScanner, ModulesContainer } from '@nestjs/core';
import request from 'supertest';
import { AUTH_METADATA } from '../src/auth/auth.decorator';
import { startTestApp, TestApp } from './support/test-app';

interface Route {
  name: string;
  method: string;
  path: string;
  declared: boolean;
  public: boolean;
}

/** Every controller route of the running app, with whether it declared @Auth or @Public. */
function routes(t: TestApp): Route[] {
  const scanner = new MetadataScanner();
  const found: Route[] = [];
  for (const module of t.app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as new (...args: unknown[]) => object;
      const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
      for (const name of scanner.getAllMethodNames(controller.prototype)) {
        const handler = (controller.prototype as Record<string, unknown>)[name] as object;
        const path = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
        if (path === undefined) continue;
        const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number];
        const full = `/${[base, path].filter((p) => p && p !== '/').join('/')}`
          .replace(/\/+/g, '/')
          .replace(/:(\w+)/g, '{$1}');
        const auth = (Reflect.getMetadata(AUTH_METADATA, handler) ??
          Reflect.getMetadata(AUTH_METADATA, controller)) as { public?: boolean } | undefined;
        const declared = auth !== undefined;
        found.push({
          name: `${controller.name}.${name}`,
          method,
          path: full,
          declared,
          public: auth?.public === true,
        });
      }
    }
  }
  return found;
}

describe('route inventory', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('finds the routes (sanity check of the walk itself)', () => {
    expect(routes(t).map((r) => `${r.method} ${r.path}`)).toEqual(
      expect.arrayContaining([
        'POST /functions/v1/save-ultravox-integration',
        'GET /health',
        'GET /metrics',
        'POST /api/v1/agents',
      ]),
    );
  });

  it('every controller route declares who may call it (@Auth or @Public)', () => {
    expect(
      routes(t)
        .filter((r) => !r.declared)
        .map((r) => r.name),
    ).toEqual([]);
  });

  it('every controller route is in the OpenAPI document, and every protected one names a bearer scheme', async () => {
    const doc = (await request(t.url).get('/docs-json').expect(200)).body as {
      paths: Record<string, Record<string, { security?: object[]; responses: Record<string, unknown> }>>;
    };
    for (const route of routes(t)) {
      const operation = doc.paths[route.path]?.[route.method.toLowerCase()];
      expect({ route: route.name, documented: operation !== undefined }).toEqual({
        route: route.name,
        documented: true,
      });
      if (!route.public) {
        expect({ route: route.name, security: (operation!.security ?? []).length > 0 }).toEqual({
          route: route.name,
          security: true,
        });
      }
    }
  });

  it('every documented operation is a route, with a summary and, per error status, the codes it answers', async () => {
    const doc = (await request(t.url).get('/docs-json').expect(200)).body as {
      paths: Record<
        string,
        Record<string, { summary?: string; responses: Record<string, { content?: Record<string, unknown> }> }>
      >;
    };
    const routed = new Set(routes(t).map((r) => `${r.method} ${r.path}`));
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const name = `${method.toUpperCase()} ${path}`;
        const errors = Object.entries(operation.responses).filter(([status]) => Number(status) >= 400);
        expect({
          name,
          routed: routed.has(name),
          summary: Boolean(operation.summary),
          errorsWithoutCodes: errors
            .filter(([, response]) => !JSON.stringify(response.content ?? {}).includes('"enum"'))
            .map(([status]) => status),
        }).toEqual({ name, routed: true, summary: true, errorsWithoutCodes: [] });
      }
    }
  });
});
