import { RateSync, type LimiterOptions, type StoreOptions } from '../../lib/core';
import { PG_URL, captureLogger, dropSchema, uniqueName } from '../support/postgres';
import { TcpProxy } from './tcp-proxy';

/**
 * A RateSync whose one store, `pg`, reaches the test server through a {@link TcpProxy} of its
 * own (to make outages), in a schema of its own. `close()` drops them all.
 */
export class ProxiedStore {
  readonly schema = uniqueName('rs_proxied');
  readonly proxy: TcpProxy;
  rs!: RateSync;

  constructor() {
    const target = new URL(PG_URL);
    this.proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
  }

  /** Starts the proxy, then creates and connects the RateSync. */
  async open(
    store: Partial<StoreOptions>,
    limiters: Record<string, Omit<LimiterOptions, 'store'>>,
  ): Promise<RateSync> {
    await this.proxy.up();
    const url = new URL(PG_URL);
    url.hostname = '127.0.0.1';
    url.port = String(this.proxy.port);
    const withStore = Object.fromEntries(
      Object.entries(limiters).map(([id, l]) => [id, { ...l, store: 'pg' }]),
    );
    this.rs = new RateSync(
      {
        stores: {
          pg: { ...store, engine: 'postgres', url: url.toString(), schemaName: this.schema },
        },
        limiters: withStore,
      },
      { logger: captureLogger() },
    );
    await this.rs.connect();
    return this.rs;
  }

  async close(): Promise<void> {
    await this.rs?.close();
    await this.proxy.close();
    await dropSchema(this.schema);
  }
}
