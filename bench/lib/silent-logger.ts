import type { RateSyncLogger } from '../../lib/core';

/** Benchmarks print their own output; warnings from the library would only add noise. */
export const silentLogger: RateSyncLogger = {
  log: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
