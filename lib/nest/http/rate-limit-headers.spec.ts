import type { CompositeResult, RateLimitResult } from '../../core';
import { rateLimitHeaders, retryAfterSeconds } from './rate-limit-headers';

const NOW = 1_700_000_000_000;
const result = (over: Partial<RateLimitResult> = {}): RateLimitResult => ({
  allowed: true,
  limit: 10,
  remaining: 4,
  resetAt: NOW + 12_300,
  retryAfterMs: 0,
  limiterId: 'api',
  key: 'k',
  ...over,
});
const windowOf = (): number => 60;

describe('rateLimitHeaders', () => {
  it('legacy: limit, remaining, reset in epoch seconds (rounded up)', () => {
    expect(rateLimitHeaders(result(), 'legacy', NOW, windowOf)).toEqual([
      ['X-RateLimit-Limit', '10'],
      ['X-RateLimit-Remaining', '4'],
      ['X-RateLimit-Reset', String(Math.ceil((NOW + 12_300) / 1000))],
    ]);
  });

  it('adds Retry-After (seconds, rounded up, at least 1) on rejection, in every mode', () => {
    const rejected = result({ allowed: false, remaining: 0, retryAfterMs: 1_001 });
    expect(rateLimitHeaders(rejected, false, NOW, windowOf)).toEqual([['Retry-After', '2']]);
    expect(retryAfterSeconds(0)).toBe(1);
    expect(retryAfterSeconds(3_000)).toBe(3);
  });

  it('ietf: one policy item per layer, reset as a delta', () => {
    const layers = [
      result({ limiterId: 'ip', remaining: 2 }),
      result({ limiterId: 'cred"x', limit: 5, remaining: 0 }),
    ];
    const composite: CompositeResult = { ...layers[1], layers };
    expect(
      rateLimitHeaders(composite, 'ietf', NOW, (id) => (id === 'ip' ? 60 : undefined)),
    ).toEqual([
      ['RateLimit-Policy', '"ip";q=10;w=60, "cred\\"x";q=5'],
      ['RateLimit', '"ip";r=2;t=13, "cred\\"x";r=0;t=13'],
    ]);
  });

  it("measures the time until the reset on the store's clock, not this process's", () => {
    const HOUR = 3_600_000;
    // The store decided at STORE_NOW; this process's clock reads an hour more or less.
    const STORE_NOW = NOW;
    const r = result({ now: STORE_NOW, resetAt: STORE_NOW + 12_300 });
    for (const processNow of [NOW + HOUR, NOW - HOUR]) {
      expect(Object.fromEntries(rateLimitHeaders(r, 'both', processNow, windowOf))).toMatchObject({
        RateLimit: '"api";r=4;t=13',
        // On this process's clock (the response's Date header): 12.3 s from its now.
        'X-RateLimit-Reset': String(Math.ceil((processNow + 12_300) / 1000)),
      });
    }
  });

  it('sends no made-up numbers for a fail-open admission', () => {
    expect(rateLimitHeaders(result({ failedOpen: true }), 'both', NOW, windowOf)).toEqual([]);
  });
});
