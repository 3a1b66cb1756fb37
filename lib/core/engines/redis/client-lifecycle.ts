import type { RedisClient } from './redis-connection';

/**
 * Milliseconds ioredis waits for a closing socket before destroying it. Short, because close()
 * outwaits the timer it leaves when the socket was already dead.
 */
export const DISCONNECT_TIMEOUT_MS = 100;

/** Longest close() waits, after QUIT was answered, for the socket to close. */
const QUIT_CLOSE_TIMEOUT_MS = 1000;

/**
 * QUITs a ready client (graceful: the server answers, the socket closes, no timer remains),
 * else disconnects it (stops reconnecting). Resolves to false when ioredis may have left its
 * {@link DISCONNECT_TIMEOUT_MS} timer behind.
 */
export async function quitOrDisconnect(client: RedisClient): Promise<boolean> {
  if (client.status === 'end') return true;
  if (client.status === 'ready') {
    // QUIT's reply comes before the socket closes: wait for 'end' too (bounded), so that no
    // socket of the client is left when close() resolves.
    let timer: NodeJS.Timeout | undefined;
    const ended = new Promise<void>((resolve) => {
      client.once('end', resolve);
      timer = setTimeout(resolve, QUIT_CLOSE_TIMEOUT_MS);
    });
    const quit = await client.quit().then(
      () => true,
      () => false,
    );
    if (quit) await ended;
    clearTimeout(timer);
    if (quit) return true;
  }
  client.disconnect();
  return false;
}

/**
 * Resolves when a client that is already connecting or reconnecting is ready; rejects with its
 * next 'error', or after `timeoutMs`.
 */
export function waitReady(client: RedisClient, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = (err?: Error): void => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('error', onError);
      if (err) reject(err);
      else resolve();
    };
    const onReady = (): void => done();
    const onError = (err: Error): void => done(err);
    const timer = setTimeout(() => done(new Error(`not ready after ${timeoutMs} ms`)), timeoutMs);
    client.once('ready', onReady);
    client.once('error', onError);
  });
}
