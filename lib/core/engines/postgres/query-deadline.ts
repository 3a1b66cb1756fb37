import type { PoolClient, QueryConfig, QueryResult, QueryResultRow } from 'pg';

/** A client whose every query has a client-side time limit (see {@link QueryDeadlines}). */
export interface TimedClient {
  query<R extends QueryResultRow = QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<QueryResult<R>>;
}

/** The message of a query that outlived its limit: the one `pg`'s `query_timeout` gives. */
export const QUERY_TIMEOUT_MESSAGE = 'Query read timeout';

/**
 * The client-side limit of the store's pooled queries, kept by one timer for all of them.
 * `pg`'s `query_timeout` arms and clears a timer per query, which cost about 8% of the calls
 * per second with one call in flight (docs/performance.md, "Where the time goes", point 5).
 *
 * A query that has not answered within its limit fails with {@link QUERY_TIMEOUT_MESSAGE}, as
 * with `pg`'s option, however silent the network; its reply, if one ever comes, is dropped.
 * The caller must then release the connection with the error, so that the pool discards it
 * (`pg`'s `pool.query` does the same on any error). Limits are checked every quarter of the
 * default limit, so a query fails between its limit and its limit plus that quarter.
 */
export class QueryDeadlines {
  private readonly pending = new Set<Pending>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly defaultLimitMs: number) {}

  query<R extends QueryResultRow>(
    client: PoolClient,
    config: QueryConfig,
    limitMs = this.defaultLimitMs,
  ): Promise<QueryResult<R>> {
    return new Promise((resolve, reject) => {
      const entry = this.track(limitMs, reject);
      client.query<R>(config).then(
        (result) => {
          if (this.pending.delete(entry)) resolve(result);
        },
        (err: unknown) => {
          if (this.pending.delete(entry)) reject(err);
        },
      );
    });
  }

  /**
   * {@link query} with a callback, called once: `pg`'s callback form, which spares the promise
   * `pg` makes per query and the hop through it (the engine's one-statement path).
   */
  send<R extends QueryResultRow>(
    client: PoolClient,
    config: QueryConfig,
    done: (err: Error | undefined, result?: QueryResult<R>) => void,
    limitMs = this.defaultLimitMs,
  ): void {
    const entry = this.track(limitMs, done);
    try {
      client.query<R>(config, (err, result) => {
        if (this.pending.delete(entry)) done(err ?? undefined, result);
      });
    } catch (err) {
      if (this.pending.delete(entry)) done(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** `client` with every query bounded by `limitMs` (by default, the default limit). */
  bound(client: PoolClient, limitMs = this.defaultLimitMs): TimedClient {
    return { query: (text, values) => this.query(client, { text, values }, limitMs) };
  }

  /** Registers a query due within `limitMs`, failed with `fail` by the sweep past it. */
  private track(limitMs: number, fail: (err: Error) => void): Pending {
    const entry: Pending = { due: performance.now() + limitMs, reject: fail };
    this.pending.add(entry);
    this.timer ??= this.arm();
    return entry;
  }

  /** Stops the timer; queries still pending keep their own outcome. */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): NodeJS.Timeout {
    // Unreferenced: a pending query keeps the process alive through its socket, not this.
    return setTimeout(this.sweep, Math.max(1, this.defaultLimitMs / 4)).unref();
  }

  private readonly sweep = (): void => {
    this.timer = undefined;
    const now = performance.now();
    for (const entry of this.pending) {
      if (entry.due > now) continue;
      this.pending.delete(entry);
      entry.reject(new Error(QUERY_TIMEOUT_MESSAGE));
    }
    if (this.pending.size > 0) this.timer = this.arm();
  };
}

interface Pending {
  /** performance.now() after which the query has failed. */
  readonly due: number;
  readonly reject: (err: Error) => void;
}
