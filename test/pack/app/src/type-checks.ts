// Compiled, never called: the package's types must be real (not `any`), so each wrong use
// below must be a compile error. An unused `@ts-expect-error` fails the build.
import { Controller, Get } from '@nestjs/common';
import {
  RateLimit,
  RateLimitExceededError,
  RateSyncModule,
  type LimiterService,
  type Permit,
  type RateLimitResult,
} from '@rate-sync/nestjs';

export function typeChecks(limiters: LimiterService): void {
  @Controller()
  class Wrong {
    @Get()
    // @ts-expect-error: mode is 'wait' | 'try'
    @RateLimit('x', { mode: 'sometimes' })
    a(): void {}
  }
  void Wrong;

  // @ts-expect-error: engine is 'memory' | 'redis' | 'postgres'
  RateSyncModule.forRoot({ stores: { s: { engine: 'mongodb' } } });
  // @ts-expect-error: ratePerSecond is a number
  RateSyncModule.forRoot({ limiters: { l: { store: 's', ratePerSecond: 'fast' } } });

  const permit: Promise<Permit | null> = limiters.tryAcquire('x', { key: 'k', cost: 1 });
  // @ts-expect-error: acquire returns a Permit, not a number
  const wrong: Promise<number> = limiters.acquire('x');
  void permit;
  void wrong;

  const err = new RateLimitExceededError({} as RateLimitResult);
  const remaining: number = err.result.remaining;
  const resetAt: number = err.result.resetAt;
  // @ts-expect-error: allowed is a boolean
  const allowed: string = err.result.allowed;
  void [remaining, resetAt, allowed];
}
