import type { Clock } from './clock';
import type { DegradedState } from './degraded-mode';
import type { Engine } from './engines/engine';

/** One store's health, as `LimiterService.health()` reports it. */
export interface StoreHealth {
  /** The store id. */
  readonly store: string;
  /** Its engine: `memory`, `redis` or `postgres`. */
  readonly engine: string;
  /**
   * The store answered a probe (Redis `PING`, PostgreSQL `SELECT 1`; memory always answers)
   * within the probe timeout (1 s, or `socket_timeout` if shorter), and that probe is at most
   * 1 s old.
   */
  readonly up: boolean;
  /**
   * The store's circuit breaker, which only decisions move: `closed`, `open` (failing fast
   * after a failed decision) or `half-open` (the next decision tries the store).
   */
  readonly breaker: string;
  /** When `up` is false: why, without secrets. */
  readonly error?: string;
  /**
   * Present while `on_store_failure = "local"` limiters decide in this process because the
   * store failed: since when, for how long, and the fleet size their limits are divided by.
   */
  readonly degraded?: DegradedState;
}

/** A probe result is reused for this long; at most one probe per store per interval. */
export const PROBE_INTERVAL_MS = 1000;
/** Longest wait for a probe's answer, in ms (shorter when the store's `socketTimeout` is). */
export const PROBE_TIMEOUT_MS = 1000;

/** Reachability of one store by probe: the outcome and when it was measured. */
interface Outcome {
  readonly up: boolean;
  readonly error?: string;
  /** `clock.now()` when the probe ended. */
  readonly at: number;
}

/**
 * Probes one store for `health()`: at most one probe per {@link PROBE_INTERVAL_MS}, concurrent
 * callers share the probe in flight, and a probe that has not answered within its timeout
 * counts as down. No timer runs between calls: with no `health()` calls there are no probes.
 * The outcome does not touch the circuit breaker, which stays the decisions' business: a
 * slow answer to a probe does not make decisions fail, and a PING answered does not prove that
 * a decision would succeed.
 */
export class StoreProbe {
  private last?: Outcome;
  private inFlight?: Promise<Outcome>;

  constructor(
    private readonly engine: Engine,
    private readonly clock: Clock,
    /** Milliseconds a probe may take before the store counts as down. */
    readonly timeoutMs: number,
  ) {}

  /** Whether the store answers: a fresh result, or one probed at most an interval ago. */
  check(): Promise<{ up: boolean; error?: string }> {
    const last = this.last;
    const age = last ? this.clock.now() - last.at : Infinity;
    // A clock that stepped back (age < 0) makes the result stale rather than fresh for longer.
    if (last && age >= 0 && age < PROBE_INTERVAL_MS) return Promise.resolve(last);
    this.inFlight ??= this.probe().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async probe(): Promise<Outcome> {
    const timedOut = new AbortController();
    const timeout = this.clock.sleep(this.timeoutMs, timedOut.signal).then(() => {
      if (!timedOut.signal.aborted) throw new Error(`no answer within ${this.timeoutMs} ms`);
    });
    let outcome: Omit<Outcome, 'at'>;
    try {
      await Promise.race([this.engine.ping(this.timeoutMs), timeout]);
      outcome = { up: true };
    } catch (err) {
      outcome = { up: false, error: errorMessage(err) };
    } finally {
      timedOut.abort();
    }
    this.last = { ...outcome, at: this.clock.now() };
    return this.last;
  }
}

function errorMessage(err: unknown): string {
  const message = (err as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(err);
}
