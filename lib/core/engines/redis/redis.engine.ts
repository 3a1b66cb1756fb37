/*
 * The Redis engine. Longer than the house's ~150 lines because it is the one place where the
 * engine interface meets the client's lifecycle (connect, errors, close); the algorithms live
 * in scripts/, keys in redis-keys.ts, the client in redis-connection.ts and
 * client-lifecycle.ts, pub/sub in release-hub.ts, SCAN in limiter-scan.ts and cluster
 * composites in cross-slot.ts.
 */
import { RateSyncError, StoreSetupError } from '../../errors';
import { RateLimitedLog } from '../../logger';
import type { LimiterPolicy } from '../../policy';
import type { AcquireRequest, Engine, LayerDecision, RefundRequest, ReleaseWake } from '../engine';
import type { EngineContext } from '../engine-context';
import {
  callToken,
  decodeAcquire,
  encodeAcquire,
  isBucketOnly,
  type AcquireCall,
  type LayerReply,
} from './acquire-codec';
import { LeaseGiveBack } from '../lease-give-back';
import { TickBatcher } from '../tick-batcher';
import {
  decodeBatch,
  decodeOne,
  encodeBatch,
  MAX_BATCH,
  SPLIT_FROM,
  type BucketCall,
} from './bucket-batch';
import { slotOf } from './cluster-slot';
import {
  checkBorrowedClient,
  CLOSED_CLIENT_FIX,
  closedClientError,
  isClusterClient,
  withDeadline,
} from './borrowed-client';
import { DISCONNECT_TIMEOUT_MS, quitOrDisconnect, waitReady } from './client-lifecycle';
import { acquireAcrossSlots, sameSlot } from './cross-slot';
import { scanLimiterKeys } from './limiter-scan';
import {
  createClient,
  describeTarget,
  explain,
  neverSent,
  scrubSecrets,
  type RedisClient,
} from './redis-connection';
import { checkKeyPrefix, DEFAULT_KEY_PREFIX, layerKeys } from './redis-keys';
import { ReleaseHub } from './release-hub';
import { isNodeRedisClient, isNodeRedisCluster, NodeRedisAdapter } from './node-redis-adapter';
import { NodeRedisClusterAdapter } from './node-redis-cluster';
import { NodeRedisConnection } from './node-redis-connection';
import { ACQUIRE_LUA } from './scripts/acquire.script';
import { HEARTBEAT_LUA, LEAVE_FLEET_LUA } from './scripts/fleet.script';
import { GCRA_LUA, GCRA_ONE_LUA } from './scripts/gcra.script';
import { RELEASE_LUA, RENEW_LUA, RESET_KEY_LUA, UNDO_LUA } from './scripts/lease.script';
import { REFUND_LUA } from './scripts/refund.script';
import { BLOCKING_ACQUIRE_LUA } from './scripts/blocking-acquire.script';
import { loadScripts, luaScript, runScript, type LuaScript } from './script-runner';
import { errorText } from '../../error-text';
import { timerMs } from '../../clock';
import { engineClosedError } from '../engine-closed.error';

const ACQUIRE = luaScript('acquire', ACQUIRE_LUA);
// named for messages: they are acquires
const GCRA = luaScript('acquire', GCRA_LUA);
const GCRA_ONE = luaScript('acquire', GCRA_ONE_LUA);
const RELEASE = luaScript('release', RELEASE_LUA);
const RENEW = luaScript('renew', RENEW_LUA);
const RESET_KEY = luaScript('reset-key', RESET_KEY_LUA);
const UNDO = luaScript('undo', UNDO_LUA);
const REFUND = luaScript('refund', REFUND_LUA);
const BLOCKING_ACQUIRE = luaScript('acquire', BLOCKING_ACQUIRE_LUA);
const HEARTBEAT = luaScript('heartbeat', HEARTBEAT_LUA);
const LEAVE_FLEET = luaScript('leave-fleet', LEAVE_FLEET_LUA);
const SCRIPTS = [
  ACQUIRE,
  GCRA,
  GCRA_ONE,
  RELEASE,
  RENEW,
  RESET_KEY,
  UNDO,
  REFUND,
  BLOCKING_ACQUIRE,
  HEARTBEAT,
  LEAVE_FLEET,
];

/**
 * The `redis` engine (DESIGN 4): one ioredis client per store (a `Cluster` when
 * `clusterNodes` is given), one EVALSHA per decision, time from the server, every key with a
 * TTL. Fails fast when Redis is down: no offline queue, no replay, a command timeout
 * (`socketTimeout`, 1 s by default). Errors are thrown as {@link RateSyncError}s naming the
 * store, without secrets; the caller (the registry) applies fail-open/fail-closed.
 */
export class RedisEngine implements Engine {
  readonly kind = 'redis' as const;
  private readonly client: RedisClient;
  private readonly isCluster: boolean;
  /**
   * The client the application gave (`client` option), which the store never closes, or
   * undefined when the store opened its own.
   */
  private readonly borrowed?: RedisClient;
  /**
   * A borrowed client without its own `commandTimeout`: each call is bounded by
   * `socketTimeout` here instead (the store's own clients have the option set).
   */
  private readonly callLimitMs?: number;
  private readonly prefix: string;
  private readonly hub: ReleaseHub;
  private readonly log: RateLimitedLog;
  /** Token-bucket decisions of one tick, sent as one script call (see `bucket-batch.ts`). */
  private readonly buckets: TickBatcher<BucketCall, LayerDecision[]>;
  /** Leases of failed acquire and release calls, deleted once Redis answers (see the class). */
  private readonly giveBack: LeaseGiveBack;
  private closed = false;
  /**
   * Per policy, the token bucket's "<interval> <burst> " argument head and the whole argument
   * of the usual call (cost 1, no wait, not dry), formatted once: one string object per policy
   * also makes the batch's spec lookup cheap.
   */
  private readonly bucketArgs = new WeakMap<LimiterPolicy, { head: string; usual: string }>();

  constructor(private readonly ctx: EngineContext) {
    const o = ctx.options;
    this.prefix = checkKeyPrefix(ctx.storeId, o.keyPrefix ?? DEFAULT_KEY_PREFIX);
    this.log = new RateLimitedLog(ctx.logger);
    this.borrowed = o.client && borrowedClient(o.client);
    if (this.borrowed) {
      this.client = this.borrowed;
      this.isCluster = isClusterClient(this.borrowed);
      // The application's own listeners handle its client's errors: none is added to it.
      this.callLimitMs = commandTimeoutOf(this.borrowed) ? undefined : callLimit(o.socketTimeout);
    } else {
      this.client = createClient(ctx.storeId, o);
      this.isCluster = !!o.clusterNodes?.length;
      this.client.on('error', (err) => this.warn('client', errorText(err)));
    }
    this.hub = new ReleaseHub(this.client, {
      isCluster: this.isCluster,
      // The application's Cluster keeps its own subscriptions: the store subscribes on a copy.
      duplicateCluster: !!this.borrowed,
      connectionName: `rate-sync:${ctx.storeId}:sub`,
      warn: (topic, m) => this.warn(topic, m),
    });
    this.giveBack = new LeaseGiveBack(
      (key, leaseId) => this.releaseLease(key, leaseId),
      (m) => this.warn('give-back', m),
    );
    this.buckets = new TickBatcher((calls) => this.decideBuckets(calls), {
      maxBatch: MAX_BATCH,
      splitFrom: SPLIT_FROM,
      sendOne: (call) => this.decideOneBucket(call),
      // On a cluster, a call holds the keys of one slot only.
      groupOf: this.isCluster ? (c) => slotOf(c.request.key) : undefined,
    });
  }

  async connect(): Promise<void> {
    if (this.closed) throw engineClosedError(this.ctx.storeId, 'redis', 'connect()');
    // ioredis rejects connect() with "Connection is closed."; the cause is in its 'error' event.
    let cause: unknown;
    const onError = (err: Error): void => void (cause = err);
    this.client.on('error', onError);
    const connectMs = (this.ctx.options.socketConnectTimeout ?? 5) * 1000;
    try {
      if (this.borrowed) {
        await withDeadline(
          checkBorrowedClient(this.ctx.storeId, this.borrowed, connectMs),
          connectMs,
          `not ready after ${connectMs} ms`,
        );
      } else if (this.client.status === 'wait' || this.client.status === 'end')
        await this.client.connect();
      else if (this.client.status !== 'ready') {
        await waitReady(this.client, connectMs);
      }
      await withDeadline(
        loadScripts(this.client, this.isCluster, SCRIPTS),
        connectMs,
        `no reply to SCRIPT LOAD within socket_connect_timeout (${connectMs} ms)`,
      );
    } catch (err) {
      if (err instanceof StoreSetupError) throw err;
      const closed = this.borrowed && closedClientError(this.ctx.storeId, this.borrowed);
      if (closed) throw closed;
      throw new RateSyncError(
        `Store '${this.ctx.storeId}': cannot connect to Redis at ${describeTarget(this.ctx.options)}: ` +
          `${this.scrub(cause ?? err)}. Check that the server runs and that the URL, password and TLS ` +
          'settings are right.',
      );
    } finally {
      this.client.off('error', onError);
    }
  }

  /**
   * Quits the client and the subscriber; a client the application gave is left open (it is
   * the application's to close). When the server was unreachable, ioredis leaves a
   * `disconnectTimeout` timer behind; close() outwaits it so that no timer survives.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.giveBack.close();
    const [hubClean, clientClean] = await Promise.all([
      this.hub.close(),
      this.borrowed ? true : quitOrDisconnect(this.client),
    ]);
    // The application's node-redis client outlives the store: take the adapter's listeners off.
    if (this.borrowed instanceof NodeRedisConnection) this.borrowed.detach();
    if (!hubClean || !clientClean) {
      await new Promise((resolve) => setTimeout(resolve, DISCONNECT_TIMEOUT_MS + 10));
    }
  }

  /**
   * PING on the store's client, connecting it first if it never was (a store no limiter uses).
   * The command timeout (`socketTimeout`) bounds it; while disconnected it fails at once (no
   * offline queue).
   */
  async ping(): Promise<void> {
    if (this.client.status === 'wait' && !this.borrowed) await this.connect();
    await this.bounded(this.client.ping()).catch((err: unknown) => {
      throw this.failure('ping', err);
    });
  }

  acquire(requests: readonly AcquireRequest[]): Promise<LayerDecision[]> {
    if (requests.length === 0) return Promise.resolve([]);
    if (requests.length === 1 && isBucketOnly(requests[0].policy) && !requests[0].policy.blockMs)
      return this.decideBucket(requests[0]);
    if (!this.isCluster || requests.length === 1 || sameSlot(requests)) {
      return this.decide(requests, this.encode(requests));
    }
    return acquireAcrossSlots(requests, {
      encode: (reqs, writeNothing) => this.encode(reqs, writeNothing),
      decide: (reqs, call) => this.decide(reqs, call),
      undo: (reqs, call) =>
        // The acquire script's part of the call (a blocking call appends its blocks).
        this.run(
          UNDO,
          call.keys.slice(0, 3 * reqs.length),
          call.args.slice(0, 3 + 10 * reqs.length),
        ).then(
          () => undefined,
          (err: unknown) => {
            this.giveBack.acquireFailed(reqs);
            throw err;
          },
        ),
      warn: (m) => this.warn('undo', m),
    });
  }

  /** One refund script call per layer (each layer's keys share one slot; layers may not). */
  async refund(requests: readonly RefundRequest[]): Promise<void> {
    await Promise.all(
      requests.map((r) => {
        const k = layerKeys(this.prefix, r.key);
        const t = r.policy.gcra ? String(r.policy.gcra.intervalMs) : '';
        const at = r.entryAt !== undefined ? String(r.entryAt) : '';
        if (t === '' && at === '') return undefined;
        return this.run(REFUND, [k.tat, k.window], [this.nowArg(), t, String(r.cost), at]);
      }),
    );
  }

  /**
   * Deletes the lease. When Redis does not answer, the lease is given back again until it does
   * (see {@link LeaseGiveBack}) and the call still rejects, for the breaker and the log.
   */
  release(_policy: LimiterPolicy, key: string, leaseId: string): Promise<void> {
    return this.giveBack.releaseNow(key, leaseId);
  }

  private releaseLease(key: string, leaseId: string): Promise<unknown> {
    const k = layerKeys(this.prefix, key);
    return this.run(RELEASE, [k.leases], [leaseId, k.channel]);
  }

  async renew(policy: LimiterPolicy, key: string, leaseIds: readonly string[]): Promise<void> {
    if (!policy.concurrency || leaseIds.length === 0) return;
    const k = layerKeys(this.prefix, key);
    await this.run(
      RENEW,
      [k.leases],
      [this.nowArg(), String(policy.concurrency.leaseMs), ...leaseIds],
    );
  }

  async reset(policy: LimiterPolicy, key?: string): Promise<void> {
    const keys =
      key !== undefined
        ? [key]
        : await scanLimiterKeys(this.client, this.isCluster, this.prefix, policy.keyPrefix).catch(
            (err: unknown) => {
              throw this.failure('reset', err);
            },
          );
    for (let i = 0; i < keys.length; i += 100) {
      await Promise.all(keys.slice(i, i + 100).map((k) => this.resetKey(k)));
    }
  }

  /** One script call: see `fleet.script.ts`. The key never collides with a limiter's. */
  async heartbeat(instanceId: string, ttlMs: number): Promise<number> {
    const alive = await this.run(
      HEARTBEAT,
      [`${this.prefix}:fleet`],
      [this.nowArg(), String(ttlMs), instanceId],
    );
    return Number(alive);
  }

  async leaveFleet(instanceId: string): Promise<void> {
    await this.run(LEAVE_FLEET, [`${this.prefix}:fleet`], [instanceId]);
  }

  onRelease(_policy: LimiterPolicy, key: string, listener: ReleaseWake): () => void {
    return this.hub.listen(layerKeys(this.prefix, key).channel, listener);
  }

  private encode(requests: readonly AcquireRequest[], writeNothing = false): AcquireCall {
    return encodeAcquire(
      this.prefix,
      requests,
      this.ctx.testClock?.now(),
      callToken(),
      writeNothing,
    );
  }

  private async decide(
    requests: readonly AcquireRequest[],
    call: AcquireCall,
  ): Promise<LayerDecision[]> {
    const script = call.blocking ? BLOCKING_ACQUIRE : ACQUIRE;
    const reply = await this.run(script, call.keys, call.args).catch((err: RateSyncError) => {
      // Sent, the call may have run, or may run when a frozen Redis resumes: no caller holds
      // its leases.
      if (!neverSent(err.cause)) this.giveBack.acquireFailed(requests);
      throw err;
    });
    return decodeAcquire(requests, reply as LayerReply[]);
  }

  /** The hot path: one token-bucket-only layer, batched per tick (see `bucket-batch.ts`). */
  private decideBucket(r: AcquireRequest): Promise<LayerDecision[]> {
    const g = r.policy.gcra!;
    let spec = this.bucketArgs.get(r.policy);
    if (!spec) {
      const head = `${g.intervalMs} ${g.burst} `;
      this.bucketArgs.set(r.policy, (spec = { head, usual: `${head}1 0 0` }));
    }
    const wait = r.maxWaitMs === Number.POSITIVE_INFINITY ? 'inf' : r.maxWaitMs;
    const arg =
      r.cost === 1 && r.maxWaitMs === 0 && !r.dryRun
        ? spec.usual
        : `${spec.head}${r.cost} ${wait} ${r.dryRun ? 1 : 0}`;
    return this.buckets.submit({ request: r, key: `${this.prefix}:{${r.key}}:t`, arg });
  }

  /**
   * One script call for a tick's token-bucket decisions (a tick of one goes by
   * {@link decideOneBucket}): one single-layer reply each.
   */
  private async decideBuckets(calls: BucketCall[]): Promise<LayerDecision[][]> {
    const { keys, args } = encodeBatch(calls, this.ctx.testClock?.now());
    const script = calls.length === 1 ? GCRA_ONE : GCRA;
    return decodeBatch(calls, String(await this.run(script, keys, args))).map(one);
  }

  /**
   * A tick of one decision (every call at one call in flight): the lean one-decision script,
   * and no batch arrays or extra promise hops on the way back.
   */
  private decideOneBucket(call: BucketCall): Promise<LayerDecision[]> {
    const now = this.ctx.testClock?.now();
    return this.send(GCRA_ONE, [call.key], [now === undefined ? '' : String(now), call.arg]).then(
      (reply) => [decodeOne(call, String(reply))],
      (err: unknown) => {
        throw this.failure(GCRA_ONE.name, err);
      },
    );
  }

  private async resetKey(storageKey: string): Promise<void> {
    const k = layerKeys(this.prefix, storageKey);
    await this.run(RESET_KEY, [k.tat, k.window, k.leases, k.block], [k.channel]);
  }

  private run(
    script: LuaScript,
    keys: readonly string[],
    args: readonly string[],
  ): Promise<unknown> {
    return this.send(script, keys, args).catch((err: unknown) => {
      throw this.failure(script.name, err);
    });
  }

  /** {@link run} with the driver's own error (the caller wraps it with `failure`). */
  private send(
    script: LuaScript,
    keys: readonly string[],
    args: readonly string[],
  ): Promise<unknown> {
    // The store's own client fails fast by its options; a borrowed one is checked here.
    return this.borrowed === undefined
      ? runScript(this.client, script, keys, args)
      : this.runBorrowed(script, keys, args);
  }

  /**
   * A script on the application's client: refused at once while it is not connected (its
   * offline queue would hold the call until it reconnects), and bounded by `socketTimeout`
   * when the client has no `commandTimeout` of its own.
   */
  private runBorrowed(
    script: LuaScript,
    keys: readonly string[],
    args: readonly string[],
  ): Promise<unknown> {
    if (this.client.status !== 'ready') {
      return Promise.reject(new Error("Stream isn't writeable (the client is not connected)"));
    }
    return this.bounded(runScript(this.client, script, keys, args));
  }

  /** `p`, bounded by `socketTimeout` when the client has no command timeout of its own. */
  private bounded<T>(p: Promise<T>): Promise<T> {
    // "Command timed out", as ioredis' own commandTimeout says: an outage, explained as such.
    return this.callLimitMs === undefined
      ? p
      : withDeadline(p, this.callLimitMs, 'Command timed out');
  }

  /** ARGV[1] of the scripts: '' (the server's clock), or the test clock's time. */
  private nowArg(): string {
    return this.ctx.testClock ? String(this.ctx.testClock.now()) : '';
  }

  private failure(what: string, err: unknown): RateSyncError {
    const status = this.client.status;
    const state =
      this.borrowed && closedClientError(this.ctx.storeId, this.borrowed)
        ? ` (the client given in code was closed by the application: ${CLOSED_CLIENT_FIX})`
        : status === 'ready'
          ? ''
          : ` (not connected: ${status})`;
    const scrubbed = this.scrub(err);
    return new RateSyncError(
      `Store '${this.ctx.storeId}' (redis) ${what} failed${state}: ${explain(scrubbed, this.ctx.options)}`,
      // The driver's error is kept only when it names no secret (Node prints causes).
      scrubbed === errorText(err) ? { cause: err } : {},
    );
  }

  private scrub(err: unknown): string {
    return scrubSecrets(this.ctx.options, errorText(err));
  }

  private warn(topic: string, message: string): void {
    this.log.warn(
      topic,
      `Store '${this.ctx.storeId}' (redis): ${scrubSecrets(this.ctx.options, message)}`,
    );
  }
}

const one = (d: LayerDecision): LayerDecision[] => [d];

/**
 * The application's client: an ioredis one as is, a node-redis one behind the adapter that
 * gives it the operations the engine uses (see `RedisDriverClient`).
 */
function borrowedClient(client: object): RedisClient {
  if (!isNodeRedisClient(client)) return client as RedisClient;
  const adapter = isNodeRedisCluster(client)
    ? new NodeRedisClusterAdapter(client as NodeRedisClusterAdapter['raw'])
    : new NodeRedisAdapter(client as NodeRedisAdapter['raw']);
  return adapter as unknown as RedisClient;
}

/** The `commandTimeout` a client was created with (a Cluster's is in its redisOptions). */
function commandTimeoutOf(client: RedisClient): number | undefined {
  const o = client.options as {
    commandTimeout?: number;
    redisOptions?: { commandTimeout?: number };
  };
  return o.commandTimeout ?? o.redisOptions?.commandTimeout;
}

/** `socketTimeout` in ms, the bound of a call on a borrowed client without a command timeout. */
function callLimit(socketTimeout: number | undefined): number {
  return timerMs(socketTimeout ?? 1);
}
