/**
 * Every error code the API answers, with the message of an example answer. The OpenAPI document
 * lists, per operation and status, the codes that operation can answer and shows each with this
 * message (`src/common/openapi/error-responses.ts`); a code missing here fails the document's build.
 */
export const ERROR_EXAMPLES: Readonly<Record<string, string>> = {
  // Any route (README "Errors every route can answer").
  validation_failed: 'Request validation failed: phone',
  bad_request: 'Body is not valid JSON',
  invalid_cursor: 'cursor is not one this API handed out',
  unauthorized: 'Missing or invalid Authorization header',
  not_agency_user: 'The token is valid but its user belongs to no agency',
  insufficient_role: 'This action needs one of: agency_owner, agency_admin',
  api_disabled: 'API access is disabled for this agency',
  rate_limited: 'More than 100 requests in a minute with this API key',
  payload_too_large: 'Request body is too large',
  uri_too_long: 'A path segment is longer than 100 characters',
  unsupported_media_type: 'Unsupported Media Type: text/plain',
  headers_too_large: 'The request line and headers together are larger than the server accepts',
  internal_error: 'Internal server error',
  service_unavailable: 'Postgres is unreachable',
  // Route-specific.
  no_agent: 'No agent_id given and the agency has no default agent',
  agent_not_found: 'No agent 6f1c… in this agency',
  ultravox_agent_not_found:
    'Ultravox has no agent 3a9f… on this account (GET /api/agents/3a9f… answered 404)',
  agent_has_no_phone_number: 'Agent Sales has no phone number to call from',
  ultravox_not_configured: 'This agency has not saved an Ultravox API key',
  invalid_calling_window: "the agent's calling_window is stored invalid: start must be HH:MM",
  number_on_dnc: "+15551234567 is on this agency's do-not-call list",
  idempotency_key_reused: 'This Idempotency-Key was used with a different request body',
  idempotency_key_in_progress: 'A request with this Idempotency-Key is still running',
  call_not_found: 'No call 6f1c… in this agency',
  webhook_not_found: 'No webhook 6f1c… in this agency',
  delivery_not_found: 'No delivery 6f1c… in this agency',
  webhook_disabled: 'Webhook 6f1c… is disabled (receiver answered 410 Gone)',
  campaign_not_found: 'No campaign 6f1c… in this agency',
  campaign_not_draft: 'A running campaign cannot be edited',
  campaign_empty: 'Import contacts before starting the campaign',
  campaign_closed: 'A finished campaign takes no more contacts',
  invalid_transition: 'Cannot resume a running campaign',
  invalid_csv: 'Line 3: unclosed quote',
  too_many_rows: 'An import takes at most 100,000 rows; nothing was imported',
  dnc_number_not_found: "+15551234567 is not on this agency's do-not-call list",
  ultravox_key_rejected: 'Ultravox rejected the API key: 401 Unauthorized',
  ultravox_unavailable: 'Could not reach Ultravox: timed out',
  invalid_webhook: 'Expected a JSON body with "event" and "call.callId"',
  invalid_signature: 'Ultravox signature rejected: no signature matches',
  not_found: 'Unknown webhook URL',
  unhealthy: 'Down: redis',
};
