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
  readonly logger: RateSyncLogger;
}
