import { clientIp } from './client-ip';
import { parseIp } from './ip-address';
import { TrustedProxies } from './trusted-proxies';

describe('parseIp', () => {
  it.each([
    ['10.0.0.1', '10.0.0.1', 'ipv4'],
    [' 10.0.0.1:8080 ', '10.0.0.1', 'ipv4'],
    ['::ffff:10.0.0.1', '10.0.0.1', 'ipv4'],
    ['::FFFF:0a00:0001', '10.0.0.1', 'ipv4'],
    ['::FFFF:10.0.0.1', '10.0.0.1', 'ipv4'],
    ['::ffff:0:10.0.0.1', '::ffff:0:a00:1', 'ipv6'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1', 'ipv6'],
    ['[2001:db8::1]:443', '2001:db8::1', 'ipv6'],
    ['fe80::1%eth0', 'fe80::1', 'ipv6'],
  ])('%s -> %s', (raw, address, family) => {
    expect(parseIp(raw)).toEqual({ address, family });
  });

  it.each(['unknown', '', '1.2.3', '10.0.0.256', '::ffff:10.0.0.256', 'example.com'])(
    'rejects %j',
    (raw) => {
      expect(parseIp(raw)).toBeUndefined();
    },
  );
});

describe('TrustedProxies', () => {
  const proxies = TrustedProxies.parse([
    '10.0.0.0/8',
    '2001:db8::/32',
    '::ffff:192.168.0.0/112',
    '127.0.0.1',
  ]);

  it.each([
    ['10.20.30.40', 'ipv4', true],
    ['11.0.0.1', 'ipv4', false],
    ['2001:db8:ffff::1', 'ipv6', true],
    ['2001:db9::1', 'ipv6', false],
    ['192.168.7.7', 'ipv4', true],
    ['192.169.0.1', 'ipv4', false],
    ['127.0.0.1', 'ipv4', true],
    ['127.0.0.2', 'ipv4', false],
  ] as const)('%s trusted: %s', (address, family, trusted) => {
    expect(proxies.contains(address, family)).toBe(trusted);
  });

  it.each([
    [['10.0.0.0/33'], 'trustedProxies[0]'],
    [['ok', '10.0.0.0/8'], 'trustedProxies[0]'],
    [['10.0.0.0/8', '::ffff:10.0.0.0/64'], 'trustedProxies[1]'],
    [['10.0.0.0/8/1'], 'trustedProxies[0]'],
    [['10.0.0.0/-1'], 'trustedProxies[0]'],
  ])('rejects %j naming %s', (cidrs, name) => {
    expect(() => TrustedProxies.parse(cidrs)).toThrow(
      new RegExp(`^${name.replace(/[[\]]/g, '\\$&')}: `),
    );
  });
});

describe('clientIp', () => {
  const proxies = TrustedProxies.parse(['10.0.0.0/8']);

  it('is the socket address when no proxy is trusted, whatever X-Forwarded-For says', () => {
    expect(clientIp('::ffff:203.0.113.9', '1.1.1.1', TrustedProxies.none)).toBe('203.0.113.9');
  });

  it('is the socket address when the peer is not a trusted proxy', () => {
    expect(clientIp('203.0.113.9', '1.1.1.1', proxies)).toBe('203.0.113.9');
  });

  it('is the right-most untrusted X-Forwarded-For entry, never the left-most', () => {
    expect(clientIp('10.0.0.1', '6.6.6.6, 198.51.100.1, 10.0.0.7', proxies)).toBe('198.51.100.1');
    expect(clientIp('10.0.0.1', ['6.6.6.6', '198.51.100.1'], proxies)).toBe('198.51.100.1');
  });

  it('is the furthest hop when every hop is trusted, and stops at garbage', () => {
    expect(clientIp('10.0.0.1', '10.0.0.3, 10.0.0.2', proxies)).toBe('10.0.0.3');
    expect(clientIp('10.0.0.1', 'evil, 10.0.0.2', proxies)).toBe('10.0.0.2');
    expect(clientIp('10.0.0.1', undefined, proxies)).toBe('10.0.0.1');
  });
});
