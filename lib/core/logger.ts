/**
 * Where the core reports warnings (fail-open admissions, store outages, missing template
 * fields). The Nest layer passes Nest's `Logger`; the default writes to the console.
 * Messages never contain secrets.
 */
export interface RateSyncLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const consoleLogger: RateSyncLogger = {
  log: (m) => console.log(`[rate-sync] ${m}`),
  warn: (m) => console.warn(`[rate-sync] ${m}`),
  error: (m) => console.error(`[rate-sync] ${m}`),
};

/**
 * Logs a message at most once per `intervalMs` per `topic`, counting what it suppressed, so
 * an outage does not flood the log.
 */
export class RateLimitedLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: RateSyncLogger,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  warn(topic: string, message: string): void {
    const t = this.now();
    const entry = this.last.get(topic);
    if (entry && t - entry.at < this.intervalMs) {
      entry.suppressed++;
      return;
    }
    const extra = entry?.suppressed ? ` (${entry.suppressed} similar messages suppressed)` : '';
    this.last.set(topic, { at: t, suppressed: 0 });
    this.logger.warn(message + extra);
  }
}
