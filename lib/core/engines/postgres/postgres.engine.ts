/*
 * The PostgreSQL engine. Longer than the house's 150 lines because it owns a lifecycle (pool,
 * schema check, cleanup timer, LISTEN client) and maps each Engine method onto its one
 * statement; the SQL itself lives in acquire.sql.ts, batch.sql.ts, lease.sql.ts and
 * statements.ts.
 */
import type { ClientConfig, Pool, PoolClient, QueryResult } from 'pg';
import { decideLayer } from '../../algorithms/decide';
import { timerMs } from '../../clock';
import { RateSyncError, StoreSetupError } from '../../errors';
import { RateLimitedLog } from '../../logger';
import type { LimiterPolicy } from '../../policy';
import type { AcquireRequest, Engine, LayerDecision, RefundRequest, ReleaseWake } from '../engine';
import type { EngineContext } from '../engine-context';
import { DECISION_FIELDS, DECISION_WIDTH } from './acquire.sql';
import { FLEET_KEY_PREFIX, fleetStatements, type FleetStatements } from './fleet.sql';
import { postgresNames, type PostgresNames } from './identifiers';
import {
  DEFAULT_CLEANUP_INTERVAL,
  clientConfig,
  describeTarget,
  poolConfig,
  QUERY_GRACE_MS,
  scrubSecrets,
  synchronousCommit,
  timeouts,
} from './pool-config';
import { LeaseGiveBack } from '../lease-give-back';
import { TickBatcher } from '../tick-batcher';
import { QueryDeadlines } from './query-deadline';
import { ReleaseListener } from './release-listener';
import { ensureSchema } from './schema-installer';
import { statements, type Statements } from './statements';
import { errorText } from '../../error-text';
import { engineClosedError } from '../engine-closed.error';

/** Rows per cleanup statement, and statements per cleanup run: at most 100,000 rows a run. */
export const CLEANUP_BATCH = 5_000;
export const CLEANUP_MAX_BATCHES = 20;
/** At most this many decisions per call of `<table>_batch`; a bigger tick is sent as several calls. */
export const MAX_BATCH = 256;

/**
 * Shared limits on PostgreSQL (DESIGN 4): one `pg` Pool per store; every decision is one call
 * of the `<table>_acquire` function (one round trip, one transaction, row locks held only
 * inside it), with time from the server's `clock_timestamp()`. Lone token buckets, the common
 * case, take a shorter path: one upsert statement, or one call of `<table>_batch` for all
 * those issued in the same tick (see `TickBatcher`). Lease releases wake waiters in
 * every process through LISTEN/NOTIFY. Expired rows are deleted by a periodic, bounded
 * cleanup. See docs/engines/postgres.md.
 */
export class PostgresEngine implements Engine {
  readonly kind = 'postgres' as const;
  /** The validated names this store uses. */
  readonly names: PostgresNames;
  private readonly sql: Statements;
  private readonly fleet: FleetStatements;
  private readonly sync: string;
  private readonly log: RateLimitedLog;
  /**
   * Lone token buckets of one tick: alone, the one-statement path; several, one call of
   * `<table>_batch` (one round trip, one commit, a hot key's row locked and written once).
   */
  private readonly buckets = new TickBatcher<AcquireRequest, LayerDecision[]>(
    (rs) => this.acquireTokenBuckets(rs),
    { maxBatch: MAX_BATCH, sendOne: (r) => this.acquireTokenBucket(r) },
  );
  private pool?: Pool;
  /** The pool the application gave (`client` option): used, never ended by the store. */
  private readonly borrowed?: Pool;
  /** Connections of a borrowed pool that carry the store's 'error' listener (see connectClient). */
  private readonly guarded = new WeakSet<PoolClient>();
  private opening?: Promise<void>;
  /** Set by close(): no lazy reconnection after it. */
  private closed = false;
  private listener?: ReleaseListener;
  private cleanupTimer?: NodeJS.Timeout;
  private cleaning = false;
  /** Prepared statement names by operation (see statementName). */
  private readonly statementNames = new Map<string, string>();
  /** The client-side limit of every pooled query (instead of `pg`'s per-query timer). */
  private readonly deadlines: QueryDeadlines;
  /**
   * Leases of failed acquire and release calls, deleted once the server answers: a decision
   * whose reply was lost on the way back has committed its lease for nobody.
   */
  private readonly giveBack = new LeaseGiveBack(
    (key, leaseId) => this.releaseLease(key, leaseId),
    (m) => this.warn('give-back', m),
  );

  /** @throws InvalidArgumentError when `tableName`, `schemaName` or `synchronousCommit` is invalid. */
  constructor(private readonly ctx: EngineContext) {
    this.names = postgresNames(ctx.options.schemaName, ctx.options.tableName);
    this.sql = statements(this.names);
    this.fleet = fleetStatements(this.names);
    this.sync = synchronousCommit(ctx.options);
    this.deadlines = new QueryDeadlines(timeouts(ctx.options).queryMs);
    this.log = new RateLimitedLog(ctx.logger);
    this.borrowed = ctx.options.client as Pool | undefined;
  }

  /**
   * Opens the pool, checks the table and functions (creating them with `autoCreate`, the
   * default) and starts the cleanup timer. Idempotent. Rejects with a message naming the
   * target (without credentials) when the server is unreachable, and after close() (final).
   */
  connect(): Promise<void> {
    if (this.closed) return Promise.reject(this.closedError('connect()'));
    if (this.pool) return Promise.resolve();
    this.opening ??= this.open().finally(() => (this.opening = undefined));
    return this.opening;
  }

  /**
   * Closes the pool, the LISTEN client and the cleanup timer. Idempotent. Token-bucket
   * decisions still waiting for their tick's batch fail as calls after close() do: sent now,
   * they would reach a pool being ended, where `pg` leaves them waiting for a connection until
   * `socket_connect_timeout`.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.giveBack.close();
    this.buckets.failQueued(this.closedError('acquire_tb_batch'));
    await this.opening?.catch(() => undefined);
    if (this.cleanupTimer) clearInterval(this.cleanupTimer);
    this.cleanupTimer = undefined;
    const listener = this.listener;
    const pool = this.pool;
    this.listener = undefined;
    this.pool = undefined;
    await listener?.close();
    // The application's pool is the application's to end (after its own shutdown).
    if (pool !== this.borrowed) await pool?.end();
    this.deadlines.close();
  }

  /**
   * `SELECT 1` on a pooled connection (opening the pool first when the server was unreachable
   * at startup), answered within `timeoutMs` or discarded with its connection.
   */
  /** One statement: see `fleet.sql.ts`. */
  async heartbeat(instanceId: string, ttlMs: number): Promise<number> {
    const values = [FLEET_KEY_PREFIX + instanceId, ttlMs, this.testNow()];
    const { rows } = await this.query<{ alive: number }>('heartbeat', this.fleet.heartbeat, values);
    return rows[0].alive;
  }

  async leaveFleet(instanceId: string): Promise<void> {
    await this.query('leave_fleet', this.fleet.leave, [FLEET_KEY_PREFIX + instanceId]);
  }

  async ping(timeoutMs: number): Promise<void> {
    await this.query('ping', 'SELECT 1', [], false, timeoutMs);
  }

  acquire(requests: readonly AcquireRequest[]): Promise<LayerDecision[]> {
    // The hot path hands back the tick's promise itself: no async frame, no extra hop.
    if (requests.length === 1 && isPlainTokenBucket(requests[0]) && !requests[0].policy.blockMs)
      return this.buckets.submit(requests[0]);
    return this.acquireLayers(requests);
  }

  /** Every other acquisition: one call of `<table>_acquire` (or `<table>_block`). */
  private async acquireLayers(requests: readonly AcquireRequest[]): Promise<LayerDecision[]> {
    if (requests.length === 0) return [];
    const blocking = requests.some((r) => r.policy.blockMs);
    const values = [
      requests.map((r) => r.key),
      requests.map((r) => r.cost),
      requests.map((r) => r.maxWaitMs),
      requests.map((r) => r.policy.gcra?.intervalMs ?? null),
      requests.map((r) => r.policy.gcra?.burst ?? null),
      requests.map((r) => r.policy.window?.limit ?? null),
      requests.map((r) => r.policy.window?.windowMs ?? null),
      requests.map((r) => r.policy.concurrency?.max ?? null),
      requests.map((r) => r.policy.concurrency?.leaseMs ?? null),
      requests.map((r) => r.leaseId ?? null),
      requests.map((r) => r.dryRun === true),
      this.sync,
      this.testNow(),
    ];
    if (blocking) values.push(requests.map((r) => r.policy.blockMs ?? null));
    const { rows } = await this.query<{ d: (number | null)[] }>(
      blocking ? 'acquire_block' : 'acquire',
      blocking ? this.sql.acquireBlocking : this.sql.acquire,
      values,
    ).catch((err: unknown) => {
      this.giveBack.acquireFailed(requests);
      throw err;
    });
    const d = rows[0].d;
    // After the layers. Missing only while a fleet is upgraded, from a previous version's
    // function: this process's clock then stands in, as it did in that version.
    const now = d[requests.length * DECISION_WIDTH] ?? Date.now();
    const entries = requests.length * DECISION_WIDTH + 1;
    return requests.map((_, i) => {
      const decision = toDecision(d, i * DECISION_WIDTH, now);
      const entryAt = d[entries + i];
      return entryAt === null || entryAt === undefined ? decision : { ...decision, entryAt };
    });
  }

  /** The one-statement path of a lone token bucket (see Statements.acquireTokenBucket). */
  private acquireTokenBucket(r: AcquireRequest): Promise<LayerDecision[]> {
    const g = r.policy.gcra!;
    const values = [r.key, r.cost, g.intervalMs, g.burst, r.maxWaitMs, this.testNow(), this.sync];
    return this.query<TokenBucketRow>('acquire_tb', this.sql.acquireTokenBucket, values).then(
      ({ rows }) => [
        decideLayer({ tat: rows[0].prev_tat ?? undefined }, rows[0].decided_at, r).decision,
      ],
    );
  }

  /**
   * Lone token buckets in one call of `<table>_batch`, decided in this order; each decision is
   * derived from the tat before it and the call's time with the reference model, as on the
   * one-statement path.
   */
  private async acquireTokenBuckets(rs: readonly AcquireRequest[]): Promise<LayerDecision[][]> {
    // Each key once, and per decision its key's index there (1-based, as in SQL).
    const keys: string[] = [];
    const index = new Map<string, number>();
    const slots = rs.map((r) => {
      let slot = index.get(r.key);
      if (slot === undefined) index.set(r.key, (slot = keys.push(r.key)));
      return slot;
    });
    const values = [
      keys,
      slots,
      rs.map((r) => r.cost),
      rs.map((r) => r.policy.gcra!.intervalMs),
      rs.map((r) => r.policy.gcra!.burst),
      rs.map((r) => r.maxWaitMs),
      this.sync,
      this.testNow(),
    ];
    const { rows } = await this.query<{ d: (number | null)[] }>(
      'acquire_tb_batch',
      this.sql.batch,
      values,
    );
    const d = rows[0].d;
    return rs.map((r, i) => [
      decideLayer({ tat: d[i + 1] ?? undefined }, d[0] as number, r).decision,
    ]);
  }

  /** One statement per layer, each on its key's row (see Statements.refund). */
  async refund(requests: readonly RefundRequest[]): Promise<void> {
    await Promise.all(
      requests.map((r) => {
        const t = r.policy.gcra?.intervalMs ?? null;
        const at = r.entryAt ?? null;
        if (t === null && at === null) return undefined;
        const values = [r.key, r.cost, t, at, this.testNow(), this.sync];
        return this.query('refund', this.sql.refund, values);
      }),
    );
  }

  /**
   * Deletes the lease. When the server does not answer, the lease is given back again until it
   * does (see {@link LeaseGiveBack}) and the call still rejects, for the breaker and the log.
   */
  release(_policy: LimiterPolicy, key: string, leaseId: string): Promise<void> {
    return this.giveBack.releaseNow(key, leaseId);
  }

  private async releaseLease(key: string, leaseId: string): Promise<void> {
    const values = [key, leaseId, this.names.channel, this.sync, this.testNow()];
    await this.query('release', this.sql.release, values);
  }

  async renew(policy: LimiterPolicy, key: string, leaseIds: readonly string[]): Promise<void> {
    if (!policy.concurrency || leaseIds.length === 0) return;
    const values = [key, [...leaseIds], policy.concurrency.leaseMs, this.sync, this.testNow()];
    await this.query('renew', this.sql.renew, values);
  }

  async reset(policy: LimiterPolicy, key?: string): Promise<void> {
    if (key !== undefined) {
      await this.query('reset', this.sql.resetKey, [key, this.names.channel], false);
    } else {
      await this.query(
        'reset',
        this.sql.resetLimiter,
        [policy.keyPrefix, this.names.channel],
        false,
      );
    }
  }

  onRelease(_policy: LimiterPolicy, key: string, listener: ReleaseWake): () => void {
    this.listener ??= new ReleaseListener({
      storeId: this.ctx.storeId,
      channel: this.names.channel,
      // A borrowed pool's own settings (host, credentials, TLS) make the LISTEN connection.
      createClient: () =>
        new (loadPg().Client)(
          this.borrowed
            ? (this.borrowed as unknown as { options: ClientConfig }).options
            : clientConfig(this.ctx.storeId, this.ctx.options),
        ),
      warn: (topic, message) => this.log.warn(topic, scrubSecrets(message, this.ctx.options)),
    });
    return this.listener.subscribe(key, listener);
  }

  /**
   * Deletes rows whose state has expired: at most {@link CLEANUP_BATCH} per statement and
   * {@link CLEANUP_MAX_BATCHES} statements, each in its own short transaction. Runs every
   * `cleanupInterval` seconds; public for tests and for operators who want to run it now.
   * @returns the number of rows deleted.
   */
  async cleanup(batch = CLEANUP_BATCH, maxBatches = CLEANUP_MAX_BATCHES): Promise<number> {
    const pooled = await this.connectClient('cleanup');
    const client = this.deadlines.bound(pooled);
    let failure: unknown;
    try {
      let total = 0;
      for (let i = 0; i < maxBatches; i++) {
        await client.query('BEGIN');
        // A scan may be long on a big table with few expired rows: give it time, not to decisions.
        await client.query(`SET LOCAL statement_timeout = ${CLEANUP_STATEMENT_TIMEOUT_MS}`);
        await client.query(`SET LOCAL synchronous_commit = ${this.sync}`);
        const res = await this.deadlines.query(
          pooled,
          { text: this.sql.cleanup, values: [batch, this.testNow()] },
          CLEANUP_STATEMENT_TIMEOUT_MS + 1000,
        );
        await client.query('COMMIT');
        total += res.rowCount ?? 0;
        if ((res.rowCount ?? 0) < batch) break;
      }
      return total;
    } catch (err) {
      failure = err;
      throw this.failure('cleanup', err);
    } finally {
      pooled.release(failure ? true : undefined);
    }
  }

  /** The `p_now` argument: null (the server's `clock_timestamp()`), or the test clock's time. */
  private testNow(): number | null {
    return this.ctx.testClock ? this.ctx.testClock.now() : null;
  }

  private async open(): Promise<void> {
    const pool = this.borrowed ?? this.newPool();
    const end = (): Promise<void> =>
      pool === this.borrowed ? Promise.resolve() : pool.end().catch(() => undefined);
    if (this.borrowed?.ended) {
      throw new StoreSetupError(
        this.ctx.storeId,
        `Store '${this.ctx.storeId}': the pg Pool given in code has been ended. ${ENDED_POOL_FIX}.`,
      );
    }
    let client: PoolClient;
    try {
      client = await this.checkOut(pool);
    } catch (err) {
      await end();
      const text = errorText(err);
      throw new RateSyncError(
        this.scrub(
          `Store '${this.ctx.storeId}': cannot connect to PostgreSQL at ${describeTarget(this.ctx.options)}: ${text}`,
        ),
        // The driver's error is kept only when it names no secret (Node prints causes).
        this.scrub(text) === text ? { cause: err } : {},
      );
    }
    const ddlTimeoutMs = Math.max(timeouts(this.ctx.options).connectMs, 10_000);
    try {
      await ensureSchema(
        this.deadlines.bound(client),
        // The DDL waits as long as the server lets it (its statement_timeout), plus the grace.
        this.deadlines.bound(client, ddlTimeoutMs + QUERY_GRACE_MS),
        {
          storeId: this.ctx.storeId,
          names: this.names,
          autoCreate: this.ctx.options.autoCreate ?? true,
          unlogged: this.ctx.options.unlogged ?? false,
          ddlTimeoutMs,
          warn: (m) => this.ctx.logger.warn(m),
        },
      );
      client.release();
    } catch (err) {
      client.release(true);
      await end();
      if (err instanceof RateSyncError) throw err;
      throw new RateSyncError(
        this.scrub(
          `Store '${this.ctx.storeId}': cannot prepare ${this.names.qTable}: ${errorText(err)}`,
        ),
        {
          cause: err,
        },
      );
    }
    this.pool = pool;
    this.startCleanup();
  }

  /** The store's own pool, with its listeners. */
  private newPool(): Pool {
    const pool = new (loadPg().Pool)(poolConfig(this.ctx.storeId, this.ctx.options));
    pool.on('error', (err) =>
      this.warn(
        'pool',
        `an idle PostgreSQL connection failed (${errorText(err)}); it is replaced on next use`,
      ),
    );
    // A checked-out connection that fails (a terminated backend) emits 'error'; its query
    // fails with the same error, which the caller handles. Without a listener the event would
    // be thrown (pool.query attaches one per query; the engine checks connections out itself).
    pool.on('connect', (c) => c.on('error', () => undefined));
    return pool;
  }

  /**
   * A connection of `pool`. One of a borrowed pool gets the store's no-op 'error' listener
   * once (the store's own pool adds it on 'connect'): a checked-out connection whose backend
   * fails emits 'error', which, unheard, would be thrown; its query fails with the same error.
   * Checking one out of a borrowed pool is bounded by `socket_connect_timeout` (the pool may
   * have no `connectionTimeoutMillis`); one that comes later is given back.
   */
  private checkOut(pool: Pool): Promise<PoolClient> {
    if (pool !== this.borrowed) return pool.connect();
    const limitMs = timeouts(this.ctx.options).connectMs;
    return new Promise<PoolClient>((resolve, reject) => {
      let late = false;
      const timer = setTimeout(() => {
        late = true;
        reject(new Error(`timeout exceeded when trying to connect (${limitMs} ms)`));
      }, limitMs);
      pool.connect().then(
        (client) => {
          clearTimeout(timer);
          if (late) return client.release();
          if (!this.guarded.has(client)) {
            this.guarded.add(client);
            client.on('error', () => undefined);
          }
          resolve(client);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err);
        },
      );
    });
  }

  private startCleanup(): void {
    const seconds = this.ctx.options.cleanupInterval ?? DEFAULT_CLEANUP_INTERVAL;
    if (!(seconds > 0)) return;
    this.cleanupTimer = setInterval(() => {
      if (this.cleaning || !this.pool) return;
      this.cleaning = true;
      this.cleanup()
        .catch((err) => this.warn('cleanup', `expired-row cleanup failed: ${errorText(err)}`))
        .finally(() => (this.cleaning = false));
    }, timerMs(seconds));
    this.cleanupTimer.unref();
  }

  private async connectClient(op: string): Promise<PoolClient> {
    const pool = await this.poolFor(op);
    try {
      return await this.checkOut(pool);
    } catch (err) {
      throw this.failure(op, err);
    }
  }

  /**
   * One round trip on a pooled connection; `prepared` statements are parsed once per
   * connection. A connection whose query failed is discarded, as `pool.query` does.
   */
  private query<R extends object = Record<string, unknown>>(
    op: string,
    text: string,
    values: unknown[],
    prepared = true,
    limitMs?: number,
  ): Promise<QueryResult<R>> {
    const config = prepared ? { name: this.statementName(op), text, values } : { text, values };
    const pool = this.pool;
    // A borrowed pool's checkout has its own bound (checkOut); a pool not open yet opens first.
    if (!pool || pool === this.borrowed) return this.queryOpening(op, config, limitMs);
    return new Promise((resolve, reject) => {
      const checkedOut = (err: Error | undefined, client?: PoolClient, release?: Release): void => {
        if (err || !client || !release) return reject(this.failure(op, err));
        this.deadlines.send<R>(
          client,
          config,
          (failed, result) => {
            if (failed) {
              release(failed);
              reject(this.failure(op, failed));
            } else {
              release();
              resolve(result as QueryResult<R>);
            }
          },
          limitMs,
        );
      };
      try {
        pool.connect(checkedOut);
      } catch (err) {
        reject(this.failure(op, err));
      }
    });
  }

  /**
   * The prepared statement's name for `op`, built once: `pg` looks it up on the connection
   * twice per query, and a string made anew each time is hashed anew each time.
   */
  private statementName(op: string): string {
    let name = this.statementNames.get(op);
    if (name === undefined)
      this.statementNames.set(op, (name = `${this.names.statementPrefix}_${op}`));
    return name;
  }

  /** {@link query} on a borrowed pool, or on the store's pool once it is open. */
  private async queryOpening<R extends object>(
    op: string,
    config: { name?: string; text: string; values: unknown[] },
    limitMs?: number,
  ): Promise<QueryResult<R>> {
    const client = await this.connectClient(op);
    try {
      const result = await this.deadlines.query<R>(client, config, limitMs);
      client.release();
      return result;
    } catch (err) {
      client.release(err instanceof Error ? err : true);
      throw this.failure(op, err);
    }
  }

  /**
   * The pool, opening it first when the server was unreachable at startup (or connect() was
   * never called): a store that comes back is used again without a restart. The store's
   * circuit breaker keeps this to one attempt per cool-down.
   */
  private async poolFor(op: string): Promise<Pool> {
    if (this.pool) return this.pool;
    if (this.closed) throw this.closedError(op);
    await this.connect();
    return this.pool as unknown as Pool;
  }

  private closedError(op: string): RateSyncError {
    return engineClosedError(this.ctx.storeId, 'postgres', op);
  }

  private failure(op: string, err: unknown): RateSyncError {
    const ended = this.borrowed?.ended
      ? ` (the pool given in code was ended by the application: ${ENDED_POOL_FIX})`
      : '';
    return new RateSyncError(
      this.scrub(`Store '${this.ctx.storeId}' (postgres): ${op} failed${ended}: ${errorText(err)}`),
      { cause: err },
    );
  }

  private warn(topic: string, text: string): void {
    this.log.warn(topic, this.scrub(`Store '${this.ctx.storeId}': ${text}`));
  }

  private scrub(text: string): string {
    return scrubSecrets(text, this.ctx.options);
  }
}

/** What the application should do about a pool it gave and then ended. */
const ENDED_POOL_FIX =
  'end your pool only after the Nest application (or RateSync.close()) has shut down; give ' +
  'the store a pool that is not ended and restart, or let the store open its own with url';

/** Statement timeout of each cleanup batch, in ms. */
const CLEANUP_STATEMENT_TIMEOUT_MS = 30_000;

/** One row of the token bucket's upsert: the state it replaced, and when. */
/** What `pg`'s pool hands a checkout callback to give the connection back (an error discards it). */
type Release = (err?: Error | boolean) => void;

interface TokenBucketRow {
  prev_tat: number | null;
  decided_at: number;
}

/** A lone token bucket that the one-statement path can decide (it always admits an empty bucket). */
function isPlainTokenBucket(r: AcquireRequest): boolean {
  const p = r.policy;
  return !!p.gcra && !p.window && !p.concurrency && !r.dryRun && r.cost <= p.gcra.burst;
}

/** Where each of DECISION_FIELDS sits in one layer's slice of `<table>_acquire`'s array. */
const FIELD = Object.fromEntries(DECISION_FIELDS.map((name, i) => [name, i])) as Record<
  (typeof DECISION_FIELDS)[number],
  number
>;

/** One layer's slice of `<table>_acquire`'s array, starting at `at`, decided at `now`. */
function toDecision(d: (number | null)[], at: number, now: number): LayerDecision {
  const field = (name: keyof typeof FIELD): number | null => d[at + FIELD[name]];
  const blocked = field('blockedBy');
  return {
    allowed: field('allowed') === 1,
    waitMs: field('waitMs') as number,
    retryAfterMs: field('retryAfterMs') as number,
    limit: field('limit') as number,
    remaining: field('remaining') as number,
    resetAt: field('resetAt') as number,
    inFlight: field('inFlight') ?? undefined,
    blockedBy: blocked === 2 ? 'concurrency' : blocked === 1 ? 'rate' : undefined,
    now,
  };
}

/** `pg`, required on first use so that importing the package never loads it. */
function loadPg(): typeof import('pg') {
  return require('pg') as typeof import('pg');
}
