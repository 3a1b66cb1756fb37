import Redis from 'ioredis';

/** Why no Redis answers PING at `url` within a second, or null when one does. */
export async function whyRedisUnreachable(url: string): Promise<string | null> {
  const probe = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1000,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    const pong = await probe.ping();
    return pong === 'PONG' ? null : `PING answered ${pong}`;
  } catch (err) {
    return (err as Error).message;
  } finally {
    probe.disconnect();
  }
}
