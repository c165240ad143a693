import type { FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { codeForStatus, errorBody } from './error-body';

/** Fastify's router default; a longer path segment answers 414. */
export const MAX_PARAM_LENGTH = 100;

/**
 * Errors Fastify answers before a route (and so Nest's exception filter) is reached, in the contract's
 * shape: a path that is not valid percent-encoding, a path segment longer than MAX_PARAM_LENGTH.
 */
export function frameworkErrors(
  error: Error & { code?: string; statusCode?: number },
  _request: FastifyRequest,
  reply: FastifyReply,
): void {
  const status = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : (error.statusCode ?? 400);
  const message =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? `A path segment is longer than ${MAX_PARAM_LENGTH} characters`
      : error.code === 'FST_ERR_BAD_URL'
        ? 'The path is not valid percent-encoded UTF-8'
        : error.message;
  void reply.status(status).send(errorBody(codeForStatus(status), message));
}

/**
 * Errors Node's HTTP parser raises before there is a request at all: request line and headers over
 * the size limit (431; an over-long URL counts here too), a request that took too long to arrive
 * (408), or bytes that are not HTTP (400). Answered in the contract's shape, then the socket closes.
 */
export const clientErrorHandler: NonNullable<FastifyServerOptions['clientErrorHandler']> = (
  err: Error & { code?: string },
  socket: Socket,
) => {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'The request line and headers together are larger than the server accepts']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'The request did not arrive in time']
        : [400, 'The request is not valid HTTP'];
  if (socket.writable) {
    const body = JSON.stringify(errorBody(codeForStatus(status), message));
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
};
