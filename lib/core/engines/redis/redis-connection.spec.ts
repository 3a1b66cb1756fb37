import type { Redis } from 'ioredis';
import { createClient } from './redis-connection';

/** The options ioredis was given (nothing connects: the store's clients are lazy). */
const optionsOf = (client: unknown): Record<string, unknown> =>
  (client as Redis).options as unknown as Record<string, unknown>;

describe('redis client options', () => {
  it('reaches the master and the Sentinels over TLS with rediss://', () => {
    const client = createClient('s', {
      engine: 'redis',
      url: 'rediss://mymaster',
      sentinels: ['127.0.0.1:26379'],
      sentinelName: 'mymaster',
    });
    const o = optionsOf(client);
    expect(o).toMatchObject({ name: 'mymaster', role: 'master', enableTLSForSentinelMode: true });
    expect(o.sentinels).toEqual([{ host: '127.0.0.1', port: 26379 }]);
    expect(o.tls).toEqual({});
    expect(o.sentinelTLS).toEqual({});
    client.disconnect();
  });

  it('keeps a plain Sentinel setup in clear text', () => {
    const client = createClient('s', {
      engine: 'redis',
      sentinels: ['127.0.0.1:26379'],
      sentinelName: 'mymaster',
      sentinelPassword: 'sp',
    });
    const o = optionsOf(client);
    expect(o.tls).toBeUndefined();
    expect(o.enableTLSForSentinelMode).toBeFalsy();
    expect(o.sentinelPassword).toBe('sp');
    client.disconnect();
  });

  it('lets username and password override the URL', () => {
    const client = createClient('s', {
      engine: 'redis',
      url: 'redis://urluser:urlpass@h:6390/3',
      username: 'app',
      password: 'pw',
    });
    expect(optionsOf(client)).toMatchObject({
      host: 'h',
      port: 6390,
      db: 3,
      username: 'app',
      password: 'pw',
    });
    client.disconnect();
  });
});
