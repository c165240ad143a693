/**
 * Distinct trigger-call requests for bench:trigger (CONTRACT §5.3): a new callee per request, with the
 * optional fields an agency's CRM typically sends; optionally an Idempotency-Key per request.
 */
import type { LoadRequest } from '../common/load';

export function triggerRequest(apiKey: string, runTag: string, withIdempotencyKey: boolean) {
  return (seq: number): LoadRequest => {
    const body = JSON.stringify({
      // +1 555 NNN 1xxx–8xxx: distinct callees, never a simulator scenario suffix (0000, 0486, 0500…).
      phone: `+1555${String(Math.floor(seq / 8_000) % 1_000).padStart(3, '0')}${1_000 + (seq % 8_000)}`,
      name: `Lead ${seq}`,
      email: `lead-${seq}@example.com`,
      metadata: { crm_id: `lead-${runTag}-${seq}`, campaign: 'spring-renewals', attempt: 1 },
    });
    return {
      path: '/api/trigger-call',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${apiKey}`,
        ...(withIdempotencyKey ? { 'idempotency-key': `bench-${runTag}-${seq}` } : {}),
      },
      body,
    };
  };
}
