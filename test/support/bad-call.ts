import { RateSync, RateSyncError, type LimiterOptions, type StoreOptions } from '../../lib/core';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * One limiter whose every call the store refuses for its data (options that bypass validation),
 * next to a `login` limit of 3 on the same store: the bad calls fail alone, with an error naming
 * their limiter, and `login` stays exact instead of failing open behind an opened breaker.
 */
export async function expectBadCallAlone(
  store: StoreOptions,
  bad: Omit<LimiterOptions, 'store'>,
): Promise<void> {
  const rs = new RateSync(
    {
      stores: { s: store },
      limiters: {
        bad: { ...bad, store: 's' },
        login: { store: 's', algorithm: 'sliding_window', limit: 3, windowSeconds: 60 },
      },
    },
    { logger: quiet },
  );
  try {
    await rs.connect();
    for (let i = 0; i < 3; i++) {
      const err = await rs.check('bad').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RateSyncError);
      expect((err as Error).message).toMatch(
        /^Limiter 'bad': store 's' could not decide this call/,
      );
    }
    const logins = [];
    for (let i = 0; i < 6; i++) logins.push(await rs.check('login', { key: 'victim' }));
    expect(logins.map((r) => r.allowed)).toEqual([true, true, true, false, false, false]);
    expect(logins.some((r) => r.failedOpen)).toBe(false);
  } finally {
    await rs.close();
  }
}
