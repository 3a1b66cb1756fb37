import { inspect } from 'node:util';
import type { RateSyncLogger } from '../logger';
import type { EngineName } from '../options';
import { RateSync } from '../rate-sync';

/**
 * URLs the configuration validation rejects, given straight to the core (as a program that
 * skips `loadConfig` can): the connect error and the logs must still not name any piece of the
 * password, even when the driver reads a piece of it as the host (`getaddrinfo ENOTFOUND`).
 */
const PIECES = ['FakeSecA1', 'FakeSecB2'];
const MALFORMED: [EngineName, string][] = [
  ['redis', `redis://:${PIECES[0]}@${PIECES[1]}#x@cache:6379`],
  ['redis', `redis://${PIECES[0]}?${PIECES[1]}@cache:6379`],
  ['postgres', `postgres://app:${PIECES[0]}@${PIECES[1]}/x@db:5432/app`],
  ['postgres', `postgres://${PIECES[0]}?${PIECES[1]}@db:5432/app`],
];

describe('connect errors from a malformed URL do not leak its credentials', () => {
  const CASES = MALFORMED.flatMap(([engine, url]) =>
    [true, false].map((failClosed) => [engine, url, failClosed] as const),
  );
  it.each(CASES)('%s %s, fail_closed %s', async (engine, url, failClosed) => {
    const logged: string[] = [];
    const logger: RateSyncLogger = {
      warn: (message) => void logged.push(String(message)),
      error: (message) => void logged.push(String(message)),
      log: (message) => void logged.push(String(message)),
    } as RateSyncLogger;
    const rateSync = new RateSync(
      {
        stores: { s: { engine, url, socketConnectTimeout: 2 } },
        limiters: {
          api: { store: 's', algorithm: 'token_bucket', ratePerSecond: 1, failClosed },
        },
      },
      { logger },
    );
    const err = await rateSync.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    await rateSync.close();
    // fail_closed: the boot fails; otherwise the store is logged as unreachable.
    expect(err instanceof Error).toBe(failClosed);
    expect(logged.some((m) => m.includes('unreachable at startup'))).toBe(!failClosed);
    // Everything a user could see: the message, the stack, the cause chain (Node prints it).
    const shown = `${inspect(err, { depth: 5 })}\n${logged.join('\n')}`;
    expect(shown).toMatch(/cannot connect|not a valid URL/);
    for (const piece of PIECES) expect(shown).not.toContain(piece);
  });
});
