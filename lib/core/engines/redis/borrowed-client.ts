import { StoreSetupError } from '../../errors';
import { errorText } from '../../error-text';
import { waitReady } from './client-lifecycle';
import type { RedisClient } from './redis-connection';

/** What the application should do about a client it gave and then closed. */
export const CLOSED_CLIENT_FIX =
  'close your client only after the Nest application (or RateSync.close()) has shut down; ' +
  'give the store a connected client and restart, or let the store open its own with url';

/** Whether a given client is an ioredis Cluster (its own flag; no driver import needed). */
export function isClusterClient(client: RedisClient): boolean {
  return (client as { isCluster?: unknown }).isCluster === true;
}

/**
 * The error of a given client that the application has closed or is closing, else undefined
 * (right after `quit()` resolves, ioredis still says "ready" until the socket closes).
 */
export function closedClientError(
  storeId: string,
  client: RedisClient,
): StoreSetupError | undefined {
  const status = client.status;
  // An ioredis Cluster says "disconnecting" from disconnect() until its nodes are closed.
  if (status !== 'end' && status !== 'close' && status !== 'disconnecting') return undefined;
  return new StoreSetupError(
    storeId,
    `Store '${storeId}': the Redis client given in code is closed (status "${status}"). ` +
      `${CLOSED_CLIENT_FIX}.`,
  );
}

/**
 * Checks a client the application gave before the store uses it: not closed, connected (or
 * connecting: waited for up to `timeoutMs`) and, on a plain connection, talking to a master (a
 * replica refuses every decision with READONLY). A problem that waiting cannot fix is a
 * {@link StoreSetupError}, which fails the boot whatever `fail_closed` says; a client still
 * connecting when the time is up is an outage (the caller's error).
 */
export async function checkBorrowedClient(
  storeId: string,
  client: RedisClient,
  timeoutMs: number,
): Promise<void> {
  const status = client.status;
  const closed = closedClientError(storeId, client);
  if (closed) throw closed;
  if (status === 'wait') {
    throw new StoreSetupError(
      storeId,
      `Store '${storeId}': the Redis client given in code is not connected (it was created ` +
        'with lazyConnect, or by node-redis createClient() or createCluster(), and never ' +
        'connected). Call `await client.connect()` in the provider that ' +
        'creates it, before RateSyncModule starts.',
    );
  }
  const o = client.options as { keyPrefix?: string; redisOptions?: { keyPrefix?: string } };
  if (o.keyPrefix || o.redisOptions?.keyPrefix) {
    throw new StoreSetupError(
      storeId,
      `Store '${storeId}': the Redis client given in code has a keyPrefix, which the store's ` +
        'scripts and key scans cannot see. Give a client without keyPrefix (client.duplicate({ ' +
        "keyPrefix: '' }) makes one) and set the store's key_prefix instead.",
    );
  }
  if (status !== 'ready') await waitReady(client, timeoutMs);
  if (isClusterClient(client)) return;
  const role = (await client.role().catch((err: unknown) => [`unknown (${errorText(err)})`])) as [
    string,
  ];
  if (role[0] === 'slave' || role[0] === 'replica') {
    throw new StoreSetupError(
      storeId,
      `Store '${storeId}': the Redis client given in code is connected to a replica, which ` +
        'refuses writes. Give a client of the master (with Sentinel: role "master", the default).',
    );
  }
}

/**
 * `p`, or a rejection with `message` after `ms` if it has not settled by then (its outcome is
 * then ignored).
 * For the application's clients only, which may lack a command timeout or queue commands
 * while disconnected: the store's own clients are bounded by their options, with no timer.
 */
export function withDeadline<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(message)), ms);
    p.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
