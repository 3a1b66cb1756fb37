import type { Clock } from '../clock';
import type { RateSyncLogger } from '../logger';
import type { StoreOptions } from '../options';

/** What every engine constructor receives: `new XEngine(context)`. */
export interface EngineContext {
  /** The store's id, for messages. */
  readonly storeId: string;
  /** The validated store options. */
  readonly options: StoreOptions;
  /** The memory engine's time source (shared engines use the server's clock). */
  readonly clock: Clock;
  /**
   * Tests only: the shared engines (Redis, PostgreSQL) decide at this clock's time instead of
   * the server's, so their decisions can be compared with the memory engine's at identical
   * instants. Never set in production: a distributed decision must use the store's clock.
   */
  readonly testClock?: Clock;
  readonly logger: RateSyncLogger;
}
