import { isIP } from 'node:net';

/** An address in canonical form: dotted IPv4, or compressed lower-case IPv6. */
export interface IpAddress {
  readonly address: string;
  readonly family: 'ipv4' | 'ipv6';
}

const MAPPED = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/;
const MAPPED_DOTTED_PREFIX = '::ffff:';

/**
 * Parses one address as found in a socket or an `X-Forwarded-For` entry: surrounding spaces,
 * `[v6]:port`, `v4:port` and a `%zone` suffix are dropped, IPv6 is canonicalised and an
 * IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) becomes the IPv4 address it carries.
 * Returns undefined for anything that is not an IP address.
 */
export function parseIp(raw: string): IpAddress | undefined {
  // Fast paths, with the same results as the general one, for what sockets report on every
  // request: dotted IPv4, and a dual-stack server's IPv4 clients as `::ffff:a.b.c.d`, which
  // would otherwise cost a URL parse (about 2 µs).
  if (isIP(raw) === 4) return { address: raw, family: 'ipv4' };
  if (raw.startsWith(MAPPED_DOTTED_PREFIX)) {
    const v4 = raw.slice(MAPPED_DOTTED_PREFIX.length);
    if (isIP(v4) === 4) return { address: v4, family: 'ipv4' };
  }
  let text = raw.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(text);
  if (bracketed) text = bracketed[1];
  else if (/^[\d.]+:\d+$/.test(text)) text = text.slice(0, text.lastIndexOf(':'));
  text = text.replace(/%.*$/, '');
  const version = isIP(text);
  if (version === 4) return { address: text, family: 'ipv4' };
  if (version !== 6) return undefined;
  // The WHATWG URL parser canonicalises IPv6 (lower case, longest zero run compressed).
  const canonical = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  const mapped = MAPPED.exec(canonical);
  if (!mapped) return { address: canonical, family: 'ipv6' };
  const [hi, lo] = [parseInt(mapped[1], 16), parseInt(mapped[2], 16)];
  return { address: `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`, family: 'ipv4' };
}

/**
 * The IPv6 prefix length that counts as one client by default. An ISP hands each customer a
 * whole prefix, commonly a /56 (or a /48 or /64), and the customer can use any address in it:
 * counting each address alone would give one client 2^72 buckets.
 */
export const DEFAULT_IPV6_SUBNET = 56;

/**
 * What a client address counts as: an IPv4 address as is, an IPv6 address as its network at
 * `prefixLength` (`2001:db8:0:ab00::/56`; at 128, the address itself). An IPv4-mapped IPv6
 * address counts as its IPv4 address. Anything that is not an IP address is returned unchanged.
 *
 * @param prefixLength 1 to 128
 */
export function ipNetwork(address: string, prefixLength: number): string {
  if (!address.includes(':')) return address; // IPv4, or not an address: the common case first
  const ip = parseIp(address);
  if (!ip || ip.family === 'ipv4') return ip?.address ?? address;
  if (prefixLength >= 128) return ip.address;
  const hextets = expand(ip.address);
  for (let i = 0; i < 8; i++) {
    const keep = Math.min(16, Math.max(0, prefixLength - 16 * i));
    hextets[i] &= keep === 0 ? 0 : (0xffff << (16 - keep)) & 0xffff;
  }
  return `${compress(hextets)}/${prefixLength}`;
}

/** The eight 16-bit groups of a canonical IPv6 address (hex groups, at most one `::`). */
function expand(canonical: string): number[] {
  const [head, tail] = canonical.split('::');
  const groups = (part: string | undefined): number[] =>
    part ? part.split(':').map((g) => parseInt(g, 16)) : [];
  const front = groups(head);
  const back = groups(tail);
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
}

/** RFC 5952 text: lower-case hex, the longest run of two or more zero groups as `::`. */
function compress(hextets: readonly number[]): string {
  let best = { at: -1, len: 1 };
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && hextets[j] === 0) j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  const hex = hextets.map((h) => h.toString(16));
  if (best.at < 0) return hex.join(':');
  return `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.len).join(':')}`;
}
