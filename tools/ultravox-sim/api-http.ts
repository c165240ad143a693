import { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Scheduler } from './scheduler';
import { SimAccount, Fault, Json, RecordedRequest } from './types';
import { SimState } from './state';
import { InvalidCursorError, Page, PageRequest, QueryParams } from './pagination';

const API_KEY = /^[A-Za-z0-9]{8}\.[A-Za-z0-9]{32}$/;

/** The simulator's rule (CONTRACT §9): real-format keys are valid unless they start with "invalid". */
export function isValidApiKey(key: string): boolean {
  return API_KEY.test(key) && !key.toLowerCase().startsWith('invalid');
}

/** Only called by /api routes, after the guard has accepted the key. */
export function accountOf(state: SimState, request: FastifyRequest): SimAccount {
  return state.account(String(request.headers['x-api-key']));
}

export function pathOf(request: FastifyRequest): string {
  return request.url.split('?')[0];
}

/**
 * Every /api request is recorded, then may be answered by an armed fault, then must carry a valid key.
 * Faults come before auth so a test can make any endpoint fail whatever key it uses.
 */
export function installApiGuards(app: FastifyInstance, state: SimState, scheduler: Scheduler): void {
  app.addHook('preHandler', async (request, reply) => {
    const path = pathOf(request);
    if (!path.startsWith('/api/')) return;
    state.requests.push(recordOf(request, path));
    const fault = state.takeFault(request.method, path, String(request.headers['x-api-key'] ?? ''));
    if (fault) return answerWithFault(fault, reply, scheduler);
    const key = request.headers['x-api-key'];
    if (key === undefined || key === '') {
      return reply.code(403).send({ detail: 'Authentication credentials were not provided.' });
    }
    if (typeof key !== 'string' || !isValidApiKey(key)) {
      return reply.code(403).send({ detail: 'Invalid API key' });
    }
  });
}

async function answerWithFault(
  fault: Fault,
  reply: FastifyReply,
  scheduler: Scheduler,
): Promise<FastifyReply> {
  if (fault.delayMs > 0 && !(await scheduler.sleep(fault.delayMs))) {
    // The simulator is resetting or closing mid-hang: drop the connection like a dead upstream would.
    reply.hijack();
    reply.raw.destroy();
    return reply;
  }
  reply.code(fault.status).headers(fault.headers);
  if (fault.status === 204 || fault.status === 304) return reply.send();
  return reply.send(fault.body ?? { detail: `Simulated fault (HTTP ${fault.status}).` });
}

function recordOf(request: FastifyRequest, path: string): RecordedRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(', ') : value;
    // Enough to tell accounts apart without the log holding usable keys.
    headers[name] = name === 'x-api-key' ? text.slice(0, 8) : text;
  }
  return {
    method: request.method,
    path,
    query: { ...(request.query as Record<string, string | string[]>) },
    headers,
    body: request.body === undefined ? null : (request.body as Json),
    at: new Date().toISOString(),
  };
}

/** Errors keep Ultravox's `{"detail": ...}` shape, including fastify's own (bad JSON, 415, 404). */
export function installErrorShape(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = String(body);
    // Lenient on empty bodies: some clients send a JSON content type on DELETE.
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (error) {
      const parseError: FastifyError = Object.assign(
        new Error(`JSON parse error - ${error instanceof Error ? error.message : 'invalid JSON'}`),
        { statusCode: 400, code: 'SIM_JSON_PARSE' },
      );
      done(parseError, undefined);
    }
  });
  app.setErrorHandler((error: FastifyError, _request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500;
    return reply.code(status).send({ detail: status === 500 ? 'Internal server error.' : error.message });
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ detail: 'Not found.' }));
}

export function pageRequest(
  request: FastifyRequest<{ Querystring: QueryParams }>,
  defaultPageSize: number,
): PageRequest {
  return {
    query: request.query,
    baseUrl: `${request.protocol}://${request.host}${pathOf(request)}`,
    defaultPageSize,
  };
}

export function pageOrError<T>(reply: FastifyReply, build: () => T): T | FastifyReply {
  try {
    return build();
  } catch (error) {
    if (error instanceof InvalidCursorError) return reply.code(404).send({ detail: error.message });
    throw error;
  }
}

export function mapPage<T, U>(page: Page<T>, map: (item: T) => U): Page<U> {
  return { ...page, results: page.results.map(map) };
}
