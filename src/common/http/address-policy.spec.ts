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

  it.each(['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('allows %s', (address) =>
    expect(isPrivateAddress(address)).toBe(false),
  );

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
