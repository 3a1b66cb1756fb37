import type { ExecutionContext } from '@nestjs/common';
import { clientIp } from '../http/client-ip';
import type { TrustedProxies } from '../http/trusted-proxies';
import type { KeySource, RequestLike } from '../keys/key-source';

type Headers = Record<string, string | string[] | undefined>;

/** What a WebSocket client connected with: the upgrade request's headers, query and peer. */
export interface Handshake {
  readonly headers: Headers;
  readonly query: Record<string, unknown>;
  /** The TCP peer of the upgrade request. */
  readonly address?: string;
}

/** The upgrade request of each `ws` client: the `ws` package does not keep it on the socket. */
const upgradeRequests = new WeakMap<object, Handshake>();

interface UpgradeRequest {
  readonly headers?: Headers;
  readonly url?: string;
  readonly socket?: { readonly remoteAddress?: string };
}

/**
 * Records the upgrade request a `ws` client connected with (the second argument of a gateway's
 * `handleConnection`), so that key templates can read it on each message. Socket.IO clients
 * carry theirs (`client.handshake`).
 */
export function rememberUpgradeRequest(client: unknown, request: unknown): void {
  if (typeof client !== 'object' || client === null || 'handshake' in client) return;
  const req = request as UpgradeRequest | undefined;
  if (!req?.headers) return;
  const query = Object.fromEntries(new URL(req.url ?? '/', 'ws://localhost').searchParams);
  upgradeRequests.set(client, {
    headers: req.headers,
    query,
    address: req.socket?.remoteAddress,
  });
}

/**
 * The handshake of a WebSocket client: Socket.IO's `client.handshake`; for `ws` the recorded
 * upgrade request, else only the socket's peer address.
 */
export function handshakeOf(client: unknown): Handshake | undefined {
  if (typeof client !== 'object' || client === null) return undefined;
  const io = (client as { handshake?: Partial<Handshake> }).handshake;
  if (io?.headers) return { headers: io.headers, query: io.query ?? {}, address: io.address };
  const recorded = upgradeRequests.get(client);
  if (recorded) return recorded;
  const socket = (client as { _socket?: { remoteAddress?: string } })._socket;
  return socket ? { headers: {}, query: {}, address: socket.remoteAddress } : undefined;
}

/**
 * What the keys of a WebSocket call are computed from: `{ip}` is the client address (through
 * trusted proxies, from the handshake's `X-Forwarded-For`), `{headers.x}` and `{query.x}` read
 * the handshake, `{0}`/`{1.x}` the handler's arguments (the client, the message).
 */
export function websocketKeySource(
  context: ExecutionContext,
  client: unknown,
  proxies: TrustedProxies,
): KeySource {
  const handshake = handshakeOf(client);
  const request: RequestLike | undefined = handshake
    ? { headers: handshake.headers, query: handshake.query }
    : undefined;
  return {
    context,
    request,
    args: context.getArgs(),
    ip: () =>
      handshake && clientIp(handshake.address, handshake.headers['x-forwarded-for'], proxies),
  };
}
