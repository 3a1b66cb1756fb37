import { Injectable } from '@nestjs/common';
import { ManualClock } from '../../core';
import { LimiterService } from '../limiter.service';

/**
 * What a test needs to drive the limits of an application built with
 * {@link RateSyncTestingModule}: the manual clock every limiter runs on, and a reset of every
 * limiter between tests. Inject it, or get it with `app.get(RateSyncTesting)`.
 */
@Injectable()
export class RateSyncTesting {
  /** @internal Nest creates it. */
  constructor(
    /** The clock of every limiter: it moves only when the test advances it. */
    readonly clock: ManualClock,
    private readonly limiters: LimiterService,
  ) {}

  /** Lets `seconds` pass for every limiter: buckets refill, windows slide, waiters wake. */
  advance(seconds: number): Promise<void> {
    return this.clock.advance(seconds * 1000);
  }

  /** Frees every key of every limiter, so that no test depends on another's leftovers. */
  async reset(): Promise<void> {
    await Promise.all(this.limiters.list().map(({ id }) => this.limiters.reset(id)));
  }
}
