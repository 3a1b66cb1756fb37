import { ipNetwork } from './ip-address';

describe('ipNetwork', () => {
  it.each([
    ['2001:db8:1:2ff:1:2:3:4', 56, '2001:db8:1:200::/56'],
    ['2001:db8:1:2ff:1:2:3:4', 64, '2001:db8:1:2ff::/64'],
    ['2001:db8:1:2ff:1:2:3:4', 48, '2001:db8:1::/48'],
    ['2001:db8:1:2ff:1:2:3:4', 60, '2001:db8:1:2f0::/60'],
    ['2001:db8:1:2ff:1:2:3:4', 1, '::/1'],
    ['2001:db8:1:2ff:1:2:3:4', 128, '2001:db8:1:2ff:1:2:3:4'],
    ['2001:DB8:0:0:1::1', 128, '2001:db8::1:0:0:1'],
    ['fe80::1%eth0', 64, 'fe80::/64'],
    ['::1', 56, '::/56'],
    ['1:0:0:1:0:0:0:1', 128, '1:0:0:1::1'], // the longest zero run is compressed
    ['::ffff:198.51.100.4', 56, '198.51.100.4'],
    ['::ffff:c633:6404', 56, '198.51.100.4'],
    ['198.51.100.4', 56, '198.51.100.4'],
    ['not-an-ip', 56, 'not-an-ip'],
    ['user:42', 56, 'user:42'],
  ])('%s /%i -> %s', (address, prefix, network) => {
    expect(ipNetwork(address, prefix)).toBe(network);
  });

  it('puts every address of one /56 in one network and the next /56 in another', () => {
    const inside = [
      '2001:db8:0:ab00::1',
      '2001:db8:0:abff:ffff:ffff:ffff:ffff',
      '2001:db8:0:ab12::',
    ];
    expect(new Set(inside.map((a) => ipNetwork(a, 56)))).toEqual(new Set(['2001:db8:0:ab00::/56']));
    expect(ipNetwork('2001:db8:0:ac00::1', 56)).toBe('2001:db8:0:ac00::/56');
  });
});
