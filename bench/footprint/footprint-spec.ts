/** What one footprint child measures. */
export interface FootprintSpec {
  readonly contender:
    | 'rate-sync token bucket'
    | 'rate-sync sliding window'
    | 'rate-limiter-flexible RateLimiterMemory'
    | '@nestjs/throttler ThrottlerStorageService';
  /** Distinct keys touched. */
  readonly keys: number;
  /** rate-sync: the memory store's `maxKeys`. */
  readonly maxKeys?: number;
  /** rate-sync sliding window: entries recorded per key (the log holds at most `limit` = 5). */
  readonly entriesPerKey?: number;
}

/** What it reports (one JSON line on stdout). */
export interface FootprintResult {
  readonly heapBytes: number;
  readonly bytesPerKey: number;
  readonly opsPerSec: number;
  /** Keys the store holds at the end. */
  readonly trackedKeys: number;
  /**
   * rate-sync with maxKeys: the first key is still limited (a flood of new keys does not make
   * the store forget a key that restricts) and the last one was refused, not stored.
   */
  readonly oldestLimited?: boolean;
  readonly newestRefused?: boolean;
}
