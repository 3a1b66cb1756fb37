import { ManualClock } from './clock';
import type { Engine } from './engines/engine';
import { MemoryEngine } from './engines/memory';
import { StoreSetupError, StoreUnavailableError } from './errors';
import { RateSync } from './rate-sync';

/** A real memory engine behind an outage switch (asynchronous only, like a remote store). */
class SwitchableEngine implements Engine {
  readonly kind = 'memory' as const;
  down = false;
  calls = 0;
  private readonly inner: MemoryEngine;
  constructor(options: { clock: ManualClock }) {
    this.inner = new MemoryEngine(options);
  }
  connect(): Promise<void> {
    return this.inner.connect();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  async ping(): Promise<void> {
    if (this.down) throw new Error('connection refused');
  }
  async acquire(...args: Parameters<Engine['acquire']>) {
    this.calls++;
    if (this.down) throw new Error('connection refused');
    return this.inner.acquire(...args);
  }
  async refund(...args: Parameters<Engine['refund']>) {
    if (this.down) throw new Error('connection refused');
    return this.inner.refund(...args);
  }
  release(...args: Parameters<Engine['release']>) {
    return this.inner.release(...args);
  }
  renew(...args: Parameters<Engine['renew']>) {
    return this.inner.renew(...args);
  }
  reset(...args: Parameters<Engine['reset']>) {
    return this.inner.reset(...args);
  }
  onRelease(...args: Parameters<Engine['onRelease']>) {
    return this.inner.onRelease(...args);
  }
}

describe('store failures', () => {
  const setup = () => {
    const clock = new ManualClock();
    const warnings: string[] = [];
    const engine = new SwitchableEngine({ clock });
    const rs = new RateSync(
      {
        stores: { s: { engine: 'memory', breakerCooldown: 1 } },
        limiters: {
          open: { store: 's', ratePerSecond: 1 },
          closed: { store: 's', ratePerSecond: 1, failClosed: true },
        },
      },
      {
        clock,
        createEngine: () => engine,
        logger: { log: () => undefined, warn: (m) => warnings.push(m), error: () => undefined },
      },
    );
    return { rs, engine, clock, warnings };
  };

  it('fail-open admits, marks the result, warns once per interval and counts', async () => {
    const { rs, engine, warnings } = setup();
    engine.down = true;
    const results = await Promise.all([1, 2, 3].map(() => rs.check('open')));
    expect(results.every((r) => r.allowed && r.failedOpen)).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/store 's' failed .*fail-open/);
    expect(rs.metrics('open')).toMatchObject({ failedOpen: 3, storeErrors: 3, allowed: 3 });
  });

  it('a refund while the store is down never rejects: it warns, and the units stay taken', async () => {
    const { rs, engine, clock, warnings } = setup();
    const permit = await rs.acquire('open', { timeout: 0 });
    engine.down = true;
    await expect(permit.refund()).resolves.toBeUndefined();
    expect(warnings.some((w) => /refunding an admission of 'open' failed/.test(w))).toBe(true);
    engine.down = false;
    await clock.advance(1000);
    await expect(permit.refund()).resolves.toBeUndefined(); // once: not retried
    expect((await rs.check('open')).allowed).toBe(true); // the unit came back by time alone
  });

  it('a fail-open permit has nothing to refund', async () => {
    const { rs, engine, clock } = setup();
    engine.down = true;
    const permit = await rs.acquire('open', { timeout: 0 });
    expect(permit.result.failedOpen).toBe(true);
    await expect(permit.refund()).resolves.toBeUndefined();
    engine.down = false;
    await clock.advance(1000);
    expect((await rs.check('open')).allowed).toBe(true);
    expect((await rs.check('open')).allowed).toBe(false);
  });

  it('fail-closed rejects with StoreUnavailableError carrying a retry delay', async () => {
    const { rs, engine } = setup();
    engine.down = true;
    const err = await rs.acquire('closed').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect((err as StoreUnavailableError).retryAfterMs).toBeGreaterThan(0);
    expect(rs.metrics('closed').failedClosed).toBe(1);
  });

  it('stops calling a failing store during the cool-down, then probes and recovers', async () => {
    const { rs, engine, clock } = setup();
    engine.down = true;
    for (let i = 0; i < 10; i++) await rs.check('open');
    expect(engine.calls).toBe(1);
    engine.down = false;
    await clock.advance(1000);
    const r = await rs.check('open');
    expect(r.failedOpen).toBeUndefined();
    expect(r.allowed).toBe(true);
    expect((await rs.check('open')).allowed).toBe(false);
    expect((await rs.health())[0]).toMatchObject({ store: 's', up: true, breaker: 'closed' });
  });

  it('fails the boot when a fail_closed limiter cannot reach its store, warns otherwise', async () => {
    const { rs, engine } = setup();
    engine.connect = () => Promise.reject(new Error('ECONNREFUSED'));
    await expect(rs.connect()).rejects.toBeInstanceOf(StoreUnavailableError);
    const clock = new ManualClock();
    const warnings: string[] = [];
    const failing = new SwitchableEngine({ clock });
    failing.connect = () => Promise.reject(new Error('ECONNREFUSED'));
    const openOnly = new RateSync(
      { stores: { s: { engine: 'memory' } }, limiters: { open: { store: 's', ratePerSecond: 1 } } },
      {
        clock,
        createEngine: () => failing,
        logger: { log: () => undefined, warn: (m) => warnings.push(m), error: () => undefined },
      },
    );
    await expect(openOnly.connect()).resolves.toBeUndefined();
    expect(warnings[0]).toMatch(/unreachable at startup/);
  });

  it('fails the boot when a store answers but is unusable as configured, even if fail-open', async () => {
    const clock = new ManualClock();
    const broken = new SwitchableEngine({ clock });
    broken.connect = () =>
      Promise.reject(new StoreSetupError('s', "Store 's': table exists with another layout"));
    const openOnly = new RateSync(
      { stores: { s: { engine: 'memory' } }, limiters: { open: { store: 's', ratePerSecond: 1 } } },
      {
        clock,
        createEngine: () => broken,
        logger: { log: () => undefined, warn: () => undefined, error: () => undefined },
      },
    );
    await expect(openOnly.connect()).rejects.toBeInstanceOf(StoreSetupError);
  });
});
