import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { isPrivateAddress, isPrivateHostName } from './address-policy';

export class WebhookUrlError extends Error {}

/**
 * The URL rules of CONTRACT §5.4, checked when an endpoint is saved. The delivery client checks the
 * resolved address again at connect time, which is what stops DNS rebinding.
 */
export async function assertWebhookUrlAllowed(raw: string, allowPrivate: boolean): Promise<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookUrlError('is not a valid absolute URL');
  }
  if (url.username || url.password) throw new WebhookUrlError('must not contain credentials');
  if (allowPrivate) {
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw new WebhookUrlError('must be an http(s) URL');
    return url;
  }
  if (url.protocol !== 'https:') throw new WebhookUrlError('must use https');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) {
    if (isPrivateAddress(host))
      throw new WebhookUrlError(`must not target a private or loopback address (${host})`);
    return url;
  }
  if (isPrivateHostName(host)) throw new WebhookUrlError(`must not target a local host name (${host})`);
  let addresses: { address: string }[];
  try {
    addresses = await lookup(host, { all: true, verbatim: true });
  } catch {
    // Unresolvable now (no DNS, or not yet published): accepted, since delivery re-checks at connect time.
    return url;
  }
  const bad = addresses.find((a) => isPrivateAddress(a.address));
  if (bad) throw new WebhookUrlError(`resolves to a private or loopback address (${bad.address})`);
  return url;
}
