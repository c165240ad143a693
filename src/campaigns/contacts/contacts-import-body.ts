import { HttpStatus } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../../common/errors/api-error';

/** A JSON import is parsed whole: 100,000 contacts of a few short fields fit in this. */
export const JSON_IMPORT_BODY_LIMIT = 16 * 1024 * 1024;

const ROUTE_FLAG = 'contactsImport';

/** Marks a route that takes `text/csv` as a stream, and JSON bodies up to JSON_IMPORT_BODY_LIMIT. */
export const ContactsImportBody = () => RouteConfig({ [ROUTE_FLAG]: true });

function isImportRoute(config: unknown): boolean {
  return (config as Record<string, unknown> | undefined)?.[ROUTE_FLAG] === true;
}

/**
 * Fastify's side of ContactsImportBody. A CSV body is handed to the route unread, as the request
 * stream, so 100,000 rows are parsed as they arrive rather than held in memory (the row and byte limits
 * are the importer's); other routes keep answering 415 to text/csv. Call before the routes are added.
 */
export function registerContactsImportBody(fastify: FastifyInstance): void {
  fastify.addHook('onRoute', (route) => {
    if (isImportRoute(route.config)) route.bodyLimit = JSON_IMPORT_BODY_LIMIT;
  });
  fastify.addContentTypeParser('text/csv', (request, payload, done) => {
    if (isImportRoute(request.routeOptions.config)) return done(null, payload);
    done(
      new ApiError(
        HttpStatus.UNSUPPORTED_MEDIA_TYPE,
        'unsupported_media_type',
        `${request.method} ${request.routeOptions.url ?? request.url} does not take text/csv`,
        { hint: 'Send application/json' },
      ),
    );
  });
}
