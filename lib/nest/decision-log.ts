import { Logger } from '@nestjs/common';
import { createHmac, randomBytes } from 'node:crypto';
import type { CompositeResult } from '../core';

/** Options of the decision log (`RateSyncModule.forRoot({ decisionLog })`). */
export interface DecisionLogOptions {
  /** Fraction of rejections logged, between 0 and 1. @default 1 */
  sampleRate?: number;
  /** Most lines per second; the next line counts those left out. @default 10 */
  maxPerSecond?: number;
}

/** One line of the decision log, as passed to Nest's `Logger` (context `RateSyncDecisions`). */
export interface DecisionLogEntry {
  readonly event: 'rate_limit.rejected' | 'rate_limit.shadow_rejected';
  /** The limiter that rejected (or would have). */
  readonly limiter: string;
  /** The route, resolver, gateway, message handler or provider method (`Class.method`). */
  readonly handler: string;
  readonly retryAfterMs: number;
  /**
   * A keyed hash of the identifiers counted (12 hex digits), to tell clients apart within this
   * process's log; the key is random per process, so the identifier cannot be recovered.
   */
  readonly keyHash: string;
  /** Lines left out since the previous one by `maxPerSecond`. */
  readonly suppressed?: number;
}

/**
 * A structured log line per rejection (and per would-be rejection in shadow mode): sampled,
 * at most `maxPerSecond` lines a second, never the identifier itself. Through Nest's `Logger`,
 * so it lands where the application's logs go (as JSON with a JSON logger).
 */
export class DecisionLog {
  private readonly logger = new Logger('RateSyncDecisions');
  private readonly hashKey = randomBytes(32);
  private readonly sampleRate: number;
  private readonly maxPerSecond: number;
  private second = 0;
  private lines = 0;
  private suppressed = 0;

  constructor(
    options: DecisionLogOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.sampleRate = options.sampleRate ?? 1;
    this.maxPerSecond = options.maxPerSecond ?? 10;
  }

  /** Logs `result` when it is a rejection or a shadow rejection, subject to sampling. */
  record(handler: string, keys: readonly (string | undefined)[], result: CompositeResult): void {
    const shadow = result.shadow === true && result.layers.some((l) => l.shadow);
    if (result.allowed && !shadow) return;
    if (this.sampleRate < 1 && Math.random() >= this.sampleRate) return;
    const second = Math.floor(this.now() / 1000);
    if (second !== this.second) {
      this.second = second;
      this.lines = 0;
    }
    if (this.lines >= this.maxPerSecond) {
      this.suppressed++;
      return;
    }
    this.lines++;
    const entry: DecisionLogEntry = {
      event: shadow ? 'rate_limit.shadow_rejected' : 'rate_limit.rejected',
      limiter: result.blockingLimiterId ?? result.limiterId,
      handler,
      retryAfterMs: result.retryAfterMs,
      keyHash: this.hash(keys),
      ...(this.suppressed ? { suppressed: this.suppressed } : {}),
    };
    this.suppressed = 0;
    this.logger.log(entry);
  }

  private hash(keys: readonly (string | undefined)[]): string {
    const hmac = createHmac('sha256', this.hashKey);
    for (const key of keys) hmac.update(`${key ?? ''}\u0000`);
    return hmac.digest('hex').slice(0, 12);
  }
}
