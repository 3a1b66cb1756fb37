import { parseIp } from './ip-address';
import type { TrustedProxies } from './trusted-proxies';

/**
 * The client address of a request. Without trusted proxies: the socket's remote address.
 * When the socket peer is a trusted proxy: walking `X-Forwarded-For` from the right (the entry
 * the nearest proxy appended), the first address that is not a trusted proxy. The left-most
 * entries are written by the client and are never believed on their own. Does not consult
 * Express's `trust proxy` or Fastify's `trustProxy`.
 *
 * @param socketAddress the TCP peer (`req.socket.remoteAddress`)
 * @param forwardedFor the `X-Forwarded-For` header(s), if any
 * @returns the canonical address (IPv4-mapped IPv6 as IPv4), or undefined when unknown
 */
export function clientIp(
  socketAddress: string | undefined,
  forwardedFor: string | readonly string[] | undefined,
  proxies: TrustedProxies,
): string | undefined {
  let client = socketAddress === undefined ? undefined : parseIp(socketAddress);
  if (!client || proxies.isEmpty || !proxies.contains(client.address, client.family)) {
    return client?.address ?? socketAddress;
  }
  const header = typeof forwardedFor === 'string' ? forwardedFor : (forwardedFor ?? []).join(',');
  const hops = header.split(',').filter((hop) => hop.trim() !== '');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = parseIp(hops[i]);
    // Garbage written by the client is not an address: keep the last trusted hop.
    if (!hop) break;
    client = hop;
    if (!proxies.contains(hop.address, hop.family)) break;
  }
  return client.address;
}

/**
 * The client IP of an Express or Fastify request (see {@link clientIp}), from the raw socket
 * and the raw `X-Forwarded-For` header.
 */
export function requestClientIp(request: unknown, proxies: TrustedProxies): string | undefined {
  const raw = ((request as { raw?: unknown }).raw ?? request) as {
    socket?: { remoteAddress?: string };
    headers?: Record<string, string | string[] | undefined>;
  };
  return clientIp(raw.socket?.remoteAddress, raw.headers?.['x-forwarded-for'], proxies);
}
