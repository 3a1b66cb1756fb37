import { ManualClock } from './clock';
import { localPolicy } from './local-policy';
import type { Engine } from './engines/engine';
import { MemoryEngine } from './engines/memory';
import type { LimiterOptions, StoreOptions } from './options';
import { toPolicy } from './policy';
import { RateSync } from './rate-sync';

/**
 * A real memory engine behind an outage switch, asynchronous like a remote store, that keeps
 * heartbeats as a shared store does: `fleet` other processes are alive.
 */
class SharedLikeEngine implements Engine {
  readonly kind = 'memory' as const;
  down = false;
  /** Processes alive besides this one. */
  others = 3;
  beats = 0;
  left: string[] = [];
  private readonly inner: MemoryEngine;
  constructor(clock: ManualClock) {
    this.inner = new MemoryEngine({ clock });
  }
  connect = (): Promise<void> => this.inner.connect();
  close = (): Promise<void> => this.inner.close();
  ping = async (): Promise<void> => this.check();
  async acquire(...args: Parameters<Engine['acquire']>) {
    this.check();
    return this.inner.acquire(...args);
  }
  release = (...args: Parameters<Engine['release']>) => this.inner.release(...args);
  renew = (...args: Parameters<Engine['renew']>) => this.inner.renew(...args);
  reset = (...args: Parameters<Engine['reset']>) => this.inner.reset(...args);
  async refund(...args: Parameters<Engine['refund']>) {
    this.check();
    return this.inner.refund(...args);
  }
  onRelease = (...args: Parameters<Engine['onRelease']>) => this.inner.onRelease(...args);
  async heartbeat(): Promise<number> {
    this.check();
    this.beats++;
    return this.others + 1;
  }
  async leaveFleet(instanceId: string): Promise<void> {
    this.left.push(instanceId);
  }
  private check(): void {
    if (this.down) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  }
}

const WINDOW = { algorithm: 'sliding_window', limit: 8, windowSeconds: 10 } as const;

async function setup(
  limiter: Omit<LimiterOptions, 'store'>,
  store: Partial<StoreOptions> = {},
  warnings: string[] = [],
) {
  const clock = new ManualClock();
  const engine = new SharedLikeEngine(clock);
  const rs = new RateSync(
    {
      stores: { s: { engine: 'memory', breakerCooldown: 1, ...store } },
      limiters: { api: { store: 's', onStoreFailure: 'local', ...limiter } },
    },
    {
      clock,
      createEngine: () => engine,
      logger: { log: () => undefined, warn: (m) => warnings.push(m), error: () => undefined },
    },
  );
  await rs.connect();
  await clock.advance(0); // the first heartbeat
  return { rs, engine, clock, warnings };
}

/** How many of `n` immediate checks were admitted. */
async function admitted(rs: RateSync, n: number, key = 'k'): Promise<number> {
  let count = 0;
  for (let i = 0; i < n; i++) if ((await rs.check('api', { key })).allowed) count++;
  return count;
}

describe('degraded mode (on_store_failure = "local")', () => {
  it('divides limits by the fleet size: rate exactly, counts floored, at least 1', () => {
    const p = toPolicy('x', {
      store: 's',
      ratePerSecond: 10,
      burst: 7,
      maxConcurrent: 6,
    });
    const local = localPolicy(p, 4);
    expect(local.gcra).toEqual({ intervalMs: 400, burst: 1 });
    expect(local.concurrency?.max).toBe(1);
    const w = localPolicy(toPolicy('w', { store: 's', ...WINDOW, limit: 3 }), 4);
    expect(w.window).toEqual({ limit: 1, windowMs: 10_000 });
    expect(localPolicy(p, 1)).toBe(p);
  });

  it('while the store is down, each process admits its share (the heartbeat count), logs and reports it', async () => {
    const { rs, engine, clock, warnings } = await setup(WINDOW);
    expect(rs.list()[0]).toMatchObject({ onStoreFailure: 'local', failClosed: false });
    expect(engine.beats).toBe(1);
    engine.down = true;
    const results = await Promise.all(
      Array.from({ length: 5 }, () => rs.check('api', { key: 'k' })),
    );
    expect(results.map((r) => r.allowed)).toEqual([true, true, false, false, false]);
    expect(results.every((r) => r.degraded && r.limit === 2)).toBe(true);
    expect(warnings.join('\n')).toMatch(
      /degraded mode: its limiters with on_store_failure = "local" \(first 'api'\) decide in this process at 1\/4 .*fleet of 4, heartbeat/,
    );

    await clock.advance(2500);
    const [health] = await rs.health();
    expect(health.degraded).toMatchObject({
      durationMs: 2500,
      fleetSize: 4,
      fleetSource: 'heartbeat',
    });
    expect(rs.gauges().degraded).toEqual([{ store: 's', seconds: 2.5 }]);
    expect(rs.metrics('api')).toMatchObject({
      degradedAllowed: 2,
      degradedRejected: 3,
      allowed: 2,
    });
    await rs.close();
  });

  it('after recovery, what was admitted locally is not admitted again by the store within the window', async () => {
    const { rs, engine, clock, warnings } = await setup(WINDOW);
    expect(await admitted(rs, 4)).toBe(4); // the store: 4 of 8 used
    engine.down = true;
    expect(await admitted(rs, 5)).toBe(2); // the local share
    await clock.advance(1000); // the breaker probes again
    engine.down = false;
    // The store would admit 4 more; the local state, which holds the 2 admitted during the
    // outage, is still asked for one window and keeps this process at its share.
    expect(await admitted(rs, 5)).toBe(0);
    // Nothing decided locally reached the store: it holds the 4 admissions from before (plus
    // the recovery's first decision, which it admitted before the local state refused it).
    expect(await rs.state('api', 'k')).toMatchObject({ limit: 8, remaining: 3 });
    expect(warnings.join('\n')).toMatch(/is back after 1\.0 s of degraded mode/);
    expect((await rs.health())[0].degraded).toBeUndefined();
    expect(rs.gauges().degraded).toEqual([{ store: 's', seconds: undefined }]);
    await clock.advance(10_000); // one window later: the store alone decides, at the full limit
    expect(await admitted(rs, 10)).toBe(8);
    await rs.close();
  });

  it('a token bucket: the rate is divided, and the refill time after recovery is gated', async () => {
    const { rs, engine, clock } = await setup({ ratePerSecond: 4, burst: 4 });
    engine.down = true;
    expect(await admitted(rs, 3)).toBe(1); // burst 4 / 4 processes
    await clock.advance(1000); // one local emission interval (250 ms x 4)
    expect(await admitted(rs, 3)).toBe(1);
    engine.down = false;
    await clock.advance(1000);
    // Store full (burst 4), but the local bucket allows one per second during the carry-over:
    // at least one refill time and the fleet's switch-back time, 2 x (cool-down + 1 s) = 4 s.
    expect(await admitted(rs, 5)).toBe(1);
    await clock.advance(1000);
    expect(await admitted(rs, 5)).toBe(1);
    await clock.advance(3000);
    expect(await admitted(rs, 5)).toBe(4); // the store alone
    await rs.close();
  });

  it('a configured fleet_size overrides and needs no heartbeat', async () => {
    const { rs, engine } = await setup(WINDOW, { fleetSize: 2 });
    expect(engine.beats).toBe(0);
    engine.down = true;
    expect(await admitted(rs, 8)).toBe(4);
    expect((await rs.health())[0].degraded).toMatchObject({
      fleetSize: 2,
      fleetSource: 'configured',
    });
    await rs.close();
  });

  it('with no information (no heartbeat ever reached the store), the documented fallback: the whole limit, and a warning', async () => {
    const clock = new ManualClock();
    const engine = new SharedLikeEngine(clock);
    engine.down = true;
    const warnings: string[] = [];
    const rs = new RateSync(
      {
        stores: { s: { engine: 'memory' } },
        limiters: { api: { store: 's', onStoreFailure: 'local', ...WINDOW } },
      },
      {
        clock,
        createEngine: () => engine,
        logger: { log: () => undefined, warn: (m) => warnings.push(m), error: () => undefined },
      },
    );
    await rs.connect();
    expect(await admitted(rs, 10)).toBe(8);
    expect(warnings.join('\n')).toMatch(/no fleet size known: set fleet_size/);
    await rs.close();
  });

  it('concurrency: the local share, released into the local state', async () => {
    const { rs, engine } = await setup({ maxConcurrent: 6 }, { fleetSize: 4 });
    engine.down = true;
    const first = await rs.tryAcquire('api', { key: 'k' });
    expect(first?.result).toMatchObject({ degraded: true, limit: 1 });
    expect(await rs.tryAcquire('api', { key: 'k' })).toBeNull();
    await first!.release();
    expect(await rs.tryAcquire('api', { key: 'k' })).not.toBeNull();
    await rs.close();
  });

  it('a composite with a fail_closed layer fails closed; open layers of a local composite admit', async () => {
    const clock = new ManualClock();
    const engine = new SharedLikeEngine(clock);
    const rs = new RateSync(
      {
        stores: { s: { engine: 'memory', fleetSize: 4 } },
        limiters: {
          local: { store: 's', onStoreFailure: 'local', ...WINDOW },
          closed: { store: 's', onStoreFailure: 'closed', ...WINDOW },
          open: { store: 's', ...WINDOW, limit: 1 },
        },
      },
      { clock, createEngine: () => engine, logger: { log() {}, warn() {}, error() {} } },
    );
    await rs.connect();
    engine.down = true;
    await expect(rs.checkAll(['local', 'closed'])).rejects.toThrow(/unavailable/);
    const results = await Promise.all([1, 2, 3].map(() => rs.checkAll(['local', 'open'])));
    expect(results.map((r) => r.allowed)).toEqual([true, true, false]);
    await rs.close();
  });

  it('heartbeats every heartbeat_interval, not per decision, and stop on close (removing this process)', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'] });
    try {
      const { rs, engine } = await setup(WINDOW, { heartbeatInterval: 5 });
      await admitted(rs, 20);
      expect(engine.beats).toBe(1);
      await jest.advanceTimersByTimeAsync(15_000);
      expect(engine.beats).toBe(4);
      await rs.close();
      expect(engine.left).toHaveLength(1);
      await jest.advanceTimersByTimeAsync(15_000);
      expect(engine.beats).toBe(4);
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });

  it('limiters that are not local start no heartbeat', async () => {
    const { rs, engine } = await setup({ ...WINDOW, onStoreFailure: 'open' });
    expect(engine.beats).toBe(0);
    await rs.close();
  });
});
