import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { components, operations, paths } from './schema';

export type { components, operations, paths };

/** A resource or answer shape of the API, by its schema name, e.g. `Schema<'CallResponseDto'>`. */
export type Schema<Name extends keyof components['schemas']> = components['schemas'][Name];

/** Every error answer: `{"success": false, "error": {code, message, hint?, details?}}`. */
export interface ErrorBody {
  success: false;
  error: Schema<'ErrorDto'>;
}

export type SwitchboardClient = Client<paths>;

export interface SwitchboardClientOptions extends Omit<ClientOptions, 'baseUrl'> {
  /** Where Switchboard runs, e.g. `https://switchboard.example.com` (its PUBLIC_BASE_URL). */
  baseUrl: string;
  /** The agency's API key (`sb_live_…`), or a dashboard user's JWT. */
  token: string;
}

/**
 * A client whose paths, parameters, bodies and answers (including each status's error codes) are
 * typed from the API's OpenAPI document. Every call resolves to `{ data }` on success or
 * `{ error }` with the error body; `response` is the raw Response either way.
 */
export function createSwitchboardClient({
  baseUrl,
  token,
  headers,
  ...options
}: SwitchboardClientOptions): SwitchboardClient {
  return createClient<paths>({
    ...options,
    baseUrl: baseUrl.replace(/\/+$/, ''),
    headers: { ...headers, Authorization: `Bearer ${token}` },
  });
}
