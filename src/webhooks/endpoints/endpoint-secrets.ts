import { randomBytes } from 'node:crypto';

/** A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes. */
export function newEndpointSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** Encryption context of an endpoint's signing secrets. */
export const endpointSecretContext = (endpointId: string) => `webhook_endpoint:${endpointId}:secret`;
