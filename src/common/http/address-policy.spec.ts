import { isPrivateAddress, isPrivateHostName } from './address-policy';
import { assertWebhookUrlAllowed } from './webhook-url';

describe('address policy for webhook targets', () => {
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    '::',
    'fd00:ec2::254',
    'fe80::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '64:ff9b::10.0.0.1',
  ])('refuses %s', (address) => expect(isPrivateAddress(address)).toBe(true));

  // IPv6 forms that carry an IPv4 address are judged by it, in whatever spelling the URL parser left.
  it.each([
    ['NAT64, hex (169.254.169.254)', '64:ff9b::a9fe:a9fe', true],
    ['NAT64, public', '64:ff9b::808:808', false],
    ['NAT64 local-use /48 (IPv4 position unknown)', '64:ff9b:1::a9fe:a9fe', true],
    ['IPv4-mapped, hex (10.0.0.1)', '::ffff:a00:1', true],
    ['IPv4-mapped, public', '::ffff:808:808', false],
    ['IPv4-translated (127.0.0.1)', '::ffff:0:7f00:1', true],
    ['IPv4-translated, public', '::ffff:0:808:808', false],
    ['IPv4-compatible (127.0.0.1)', '::7f00:1', true],
    ['IPv4-compatible, dotted (169.254.169.254)', '::169.254.169.254', true],
    ['IPv4-compatible, public', '::808:808', false],
    ['6to4 (192.168.1.1)', '2002:c0a8:101::1', true],
    ['6to4 (127.0.0.1)', '2002:7f00:1::', true],
    ['6to4, public', '2002:808:808::1', false],
    ['Teredo, client 10.0.0.1', '2001:0:4136:e378:8000:63bf:f5ff:fffe', true],
    ['Teredo, client 8.8.8.8', '2001:0:4136:e378:8000:63bf:f7f7:f7f7', false],
  ])('%s: %s private = %s', (_form, address, refused) => expect(isPrivateAddress(address)).toBe(refused));

  // The special-purpose ranges (IANA registries) that never lead to a public host.
  it.each([
    ['IPv6 documentation', '2001:db8::1'],
    ['IPv6 documentation (RFC 9637)', '3fff::1'],
    ['IPv6 benchmarking', '2001:2::1'],
    ['IPv6 multicast', 'ff02::1'],
    ['IPv6 site-local (deprecated)', 'fec0::1'],
    ['IPv6 discard', '100::1'],
    ['IPv6 ORCHIDv2', '2001:20::1'],
    ['IPv6 outside global unicast', '4000::1'],
    ['IPv4 documentation', '198.51.100.7'],
    ['IPv4 benchmarking', '198.18.0.1'],
    ['IPv4 multicast', '239.1.1.1'],
    ['IPv4 reserved', '240.0.0.1'],
    ['IPv4 broadcast', '255.255.255.255'],
    ['not an address', 'example.com'],
  ])('refuses %s: %s', (_range, address) => expect(isPrivateAddress(address)).toBe(true));

  it.each(['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '2a00:1450:4001:82a::200e'])(
    'allows %s',
    (address) => expect(isPrivateAddress(address)).toBe(false),
  );

  it('refuses a NAT64 URL to the metadata address at creation', async () => {
    await expect(assertWebhookUrlAllowed('https://[64:ff9b::a9fe:a9fe]/hook', false)).rejects.toThrow(
      /private/,
    );
    await expect(assertWebhookUrlAllowed('https://[::ffff:0:a9fe:a9fe]/hook', false)).rejects.toThrow(
      /private/,
    );
  });

  it.each(['localhost', 'api.localhost', 'metadata.google.internal', 'printer.local'])(
    'refuses the name %s',
    (host) => expect(isPrivateHostName(host)).toBe(true),
  );

  it('requires https unless private URLs are allowed', async () => {
    await expect(assertWebhookUrlAllowed('http://example.com/hook', false)).rejects.toThrow(/https/);
    await expect(assertWebhookUrlAllowed('http://127.0.0.1:9/hook', true)).resolves.toBeInstanceOf(URL);
  });

  it('refuses literal private addresses and local names over https', async () => {
    await expect(assertWebhookUrlAllowed('https://10.0.0.5/hook', false)).rejects.toThrow(/private/);
    await expect(assertWebhookUrlAllowed('https://[::1]/hook', false)).rejects.toThrow(/private/);
    await expect(assertWebhookUrlAllowed('https://localhost/hook', false)).rejects.toThrow(/local host/);
  });

  it('refuses credentials in the URL and non-URLs', async () => {
    await expect(assertWebhookUrlAllowed('https://u:p@example.com/', false)).rejects.toThrow(/credentials/);
    await expect(assertWebhookUrlAllowed('not a url', false)).rejects.toThrow(/valid/);
  });
});
