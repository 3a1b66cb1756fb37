import { RateSync, type LimiterOptions, type StoreOptions } from '../../lib/core';
import { MemoLogger } from './engine-fixture';
import { RedisServer, sparePort } from './redis-server';

/**
 * A RateSync whose one store, `r`, is a private `redis-server` on a spare port in
 * [from, to), owned by the test (to kill, freeze, restart). `close()` stops them both.
 */
export class PrivateStore {
  readonly logger = new MemoLogger();
  server!: RedisServer;
  rs!: RateSync;

  /** Starts the server, then creates and connects the RateSync. */
  async open(
    ports: [from: number, to: number],
    store: Partial<StoreOptions>,
    limiters: Record<string, Omit<LimiterOptions, 'store'>>,
  ): Promise<RateSync> {
    this.server = new RedisServer(await sparePort(...ports));
    await this.server.start();
    const withStore = Object.fromEntries(
      Object.entries(limiters).map(([id, l]) => [id, { ...l, store: 'r' }]),
    );
    this.rs = new RateSync(
      {
        stores: { r: { ...store, engine: 'redis', url: `redis://127.0.0.1:${this.server.port}` } },
        limiters: withStore,
      },
      { logger: this.logger },
    );
    await this.rs.connect();
    return this.rs;
  }

  async close(): Promise<void> {
    await this.rs?.close();
    await this.server?.dispose();
  }
}
