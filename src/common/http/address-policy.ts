import ipaddr from 'ipaddr.js';

/**
 * Addresses a webhook must never reach (CONTRACT §5.4): anything that is not a public unicast address.
 * The ranges are IANA's special-purpose registries as ipaddr.js keeps them (loopback, private,
 * link-local and cloud metadata, CGNAT, unique-local, documentation, benchmarking, multicast, reserved,
 * discard, ORCHID, …). An IPv6 address that carries an IPv4 address (IPv4-mapped, IPv4-translated,
 * IPv4-compatible, NAT64, 6to4, Teredo) is judged by that IPv4 address, so `[64:ff9b::a9fe:a9fe]` is
 * 169.254.169.254 however the URL parser spelled it.
 */
export function isPrivateAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return true;
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv4') return !isPublicIPv4(parsed as ipaddr.IPv4);
  const ipv6 = parsed as ipaddr.IPv6;
  const embedded = embeddedIPv4(ipv6);
  if (embedded !== undefined) return embedded === null || !isPublicIPv4(embedded);
  // Global unicast is 2000::/3; everything outside it is special or unallocated.
  return ipv6.range() !== 'unicast' || (ipv6.parts[0] & 0xe000) !== 0x2000;
}

function isPublicIPv4(address: ipaddr.IPv4): boolean {
  return address.range() === 'unicast';
}

/**
 * The IPv4 address an IPv6 address stands for; null for a form whose IPv4 part cannot be told (refused);
 * undefined when it carries none.
 */
function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 | null | undefined {
  const bytes = address.toByteArray();
  const last32 = () => new ipaddr.IPv4(bytes.slice(12, 16));
  const [a, b, c] = address.parts;
  switch (address.range()) {
    case 'ipv4Mapped': // ::ffff:0:0/96
    case 'rfc6145': // ::ffff:0:0:0/96, IPv4-translated
      return last32();
    case 'rfc6052':
      // 64:ff9b::/96 (well-known NAT64) carries it last; the local-use 64:ff9b:1::/48 puts it where its
      // operator's prefix length says, which a URL does not tell.
      return a === 0x64 && b === 0xff9b && c === 0 ? last32() : null;
    case '6to4': // 2002:AABB:CCDD::/48
      return new ipaddr.IPv4(bytes.slice(2, 6));
    case 'teredo': // 2001:0:<server>:<flags>:<port>:<client XOR ffff:ffff>
      return new ipaddr.IPv4(bytes.slice(12, 16).map((byte) => byte ^ 0xff));
    default:
      // IPv4-compatible ::a.b.c.d (::/96, deprecated); :: and ::1 have ranges of their own.
      if (address.parts.slice(0, 6).every((part) => part === 0)) return last32();
      return undefined;
  }
}

const BLOCKED_NAMES = /(^|\.)(localhost|localdomain|internal|local)$|^metadata$/i;

/** True when a host name is one of the names that always mean "this machine or its network". */
export function isPrivateHostName(host: string): boolean {
  return BLOCKED_NAMES.test(host.replace(/\.$/, ''));
}
