import { concurrency } from './concurrency';

describe('concurrency', () => {
  it('counts only live leases and reports the earliest expiry when full', () => {
    expect(concurrency([50, 200, 300], 100, 2)).toMatchObject({
      allowed: false,
      active: 2,
      retryAfterMs: 100,
      resetAt: 300,
    });
    expect(concurrency([50, 200], 100, 2)).toMatchObject({
      allowed: true,
      active: 1,
      retryAfterMs: 0,
    });
    expect(concurrency([], 100, 1)).toMatchObject({ allowed: true, active: 0, resetAt: 100 });
  });
});
