/**
 * Imported first by the suites of this folder: the system clock stepped forward by
 * {@link STEP_MS} after this process started (a VM resumed from a snapshot, an NTP step).
 * This package's real clock counts from the process's start on a monotonic timer
 * (`performance.timeOrigin + performance.now()`), so it now lags the wall clock (`Date.now()`,
 * a Redis server's `TIME`, PostgreSQL's `clock_timestamp()`) by the step.
 */
export const STEP_MS = 5000;

const origin = performance.timeOrigin;
Object.defineProperty(performance, 'timeOrigin', {
  configurable: true,
  get: () => origin - STEP_MS,
});

/** Puts `performance.timeOrigin` back (the prototype's getter). */
export function unstepSystemClock(): void {
  delete (performance as { timeOrigin?: number }).timeOrigin;
}
