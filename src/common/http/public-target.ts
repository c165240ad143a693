import { lookup as dnsLookup, LookupAddress, LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import { isPrivateAddress, isPrivateHostName } from './address-policy';

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * dns.lookup that refuses private answers, for an undici Agent's `connect.lookup`: the connect-time
 * half of the SSRF rules (it defeats DNS rebinding). A literal IP never reaches a lookup:
 * `publicTargetRefusal` is the send-time half.
 */
export function guardedLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    const blocked = addresses.find((a) => isPrivateAddress(a.address));
    if (blocked) {
      const error: NodeJS.ErrnoException = new Error(
        `${hostname} resolves to a private address (${blocked.address})`,
      );
      error.code = 'EBLOCKED';
      return callback(error, []);
    }
    if (options.all) return callback(null, addresses);
    callback(null, addresses[0].address, addresses[0].family);
  });
}

/**
 * Why Switchboard must not send a request to `url` (null: it may, through a `guardedLookup` agent):
 * only https, and no literal private address or local host name.
 */
export function publicTargetRefusal(url: URL): string | null {
  if (url.protocol !== 'https:') return 'only https targets are allowed';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) ? isPrivateAddress(host) : isPrivateHostName(host)) return `${host} is a private address`;
  return null;
}
