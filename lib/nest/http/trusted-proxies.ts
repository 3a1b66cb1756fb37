import { BlockList, isIP } from 'node:net';
import { InvalidArgumentError } from '../../core';
import { parseIp } from './ip-address';

/**
 * The networks whose `X-Forwarded-For` entries are believed: a list of CIDRs (`10.0.0.0/8`,
 * `2001:db8::/32`) or single addresses, IPv4 and IPv6. IPv4-mapped IPv6 networks
 * (`::ffff:10.0.0.0/104`) match the IPv4 addresses they map.
 */
export class TrustedProxies {
  private readonly list = new BlockList();

  private constructor(readonly cidrs: readonly string[]) {}

  /** No proxy trusted: the socket address is the client. */
  static readonly none = new TrustedProxies([]);

  /**
   * @param cidrs the networks of the reverse proxies in front of the application
   * @throws InvalidArgumentError naming the entry (`trustedProxies[1]`) that is not a CIDR
   */
  static parse(cidrs: readonly string[]): TrustedProxies {
    if (!Array.isArray(cidrs)) {
      throw new InvalidArgumentError('trustedProxies', 'expected an array of CIDR strings');
    }
    const proxies = new TrustedProxies([...cidrs]);
    cidrs.forEach((cidr, i) => proxies.add(cidr, `trustedProxies[${i}]`));
    return proxies;
  }

  /** True when no network is trusted. */
  get isEmpty(): boolean {
    return this.cidrs.length === 0;
  }

  /** Whether a parsed address belongs to a trusted network. */
  contains(address: string, family: 'ipv4' | 'ipv6'): boolean {
    return !this.isEmpty && this.list.check(address, family);
  }

  private add(cidr: unknown, name: string): void {
    const bad = (): never => {
      throw new InvalidArgumentError(
        name,
        `expected a CIDR such as "10.0.0.0/8" or "2001:db8::/32", got ${JSON.stringify(cidr)}`,
      );
    };
    if (typeof cidr !== 'string') return bad();
    const [host, bits, extra] = cidr.split('/');
    const ip = isIP(host) ? parseIp(host) : undefined;
    if (!ip || extra !== undefined) return bad();
    const fromV6 = host.includes(':');
    const max = fromV6 ? 128 : 32;
    const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
    if (!(prefix >= 0 && prefix <= max)) return bad();
    if (fromV6 && ip.family === 'ipv4') {
      // An IPv4-mapped network: ::ffff:a.b.c.d/(96 + n) is a.b.c.d/n.
      if (prefix < 96) return bad();
      this.list.addSubnet(ip.address, prefix - 96, 'ipv4');
      return;
    }
    this.list.addSubnet(ip.address, prefix, ip.family);
  }
}
