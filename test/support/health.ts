import type { RateSync, StoreHealth } from '../../lib/core';

/**
 * Calls `rs.health()` every 50 ms (each call is cheap: probes run at most once a second) until
 * the first store reads `up`, and resolves with the milliseconds that took and the last
 * answer; rejects after `limitMs`. Real time passes on purpose: the subject is an outage.
 */
export async function healthUntil(
  rs: RateSync,
  up: boolean,
  limitMs: number,
): Promise<{ ms: number; health: StoreHealth }> {
  const start = performance.now();
  for (;;) {
    const [health] = await rs.health();
    const ms = Math.round(performance.now() - start);
    if (health.up === up) return { ms, health };
    if (ms > limitMs) {
      throw new Error(`health() still read up: ${!up} after ${ms} ms: ${JSON.stringify(health)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
