import { ManualClock } from './clock';
import { ConfigValidationError, InvalidArgumentError, StoreNotFoundError } from './errors';
import { RateSync } from './rate-sync';

describe('RateSync registry', () => {
  const make = (maxClones?: number) =>
    new RateSync(
      {
        stores: { s: { engine: 'memory' } },
        limiters: { base: { store: 's', ratePerSecond: 1, burst: 2 } },
      },
      { clock: new ManualClock(), maxClones },
    );

  it('clones a limiter with overrides, validated like the configuration', async () => {
    const rs = make();
    rs.clone('base', 'bigger', { burst: 5 });
    expect(rs.list().find((l) => l.id === 'bigger')).toMatchObject({ burst: 5, ratePerSecond: 1 });
    expect((await rs.check('bigger', { cost: 5 })).allowed).toBe(true);
    expect(() => rs.clone('base', 'bad', { ratePerSecond: -1 })).toThrow(ConfigValidationError);
    expect(() => rs.clone('base', 'bigger')).toThrow(InvalidArgumentError);
    expect(() => rs.clone('base', 'elsewhere', { store: 'nope' })).toThrow(/store/);
  });

  it('tryAcquire and check answer bad arguments with a rejection, and each call with its own cost', async () => {
    const rs = make();
    // A rejected promise, never a synchronous throw (callers chain .catch on it).
    const unknown = rs.tryAcquire('nope');
    await expect(unknown).rejects.toThrow(/nope/);
    await expect(rs.check('base', { cost: 3 })).rejects.toThrow(InvalidArgumentError);
    expect(await rs.check('base', { consume: false })).toMatchObject({
      allowed: true,
      remaining: 2,
    });
    expect(await rs.tryAcquire('base', { cost: 2 })).not.toBeNull();
    expect(await rs.tryAcquire('base')).toBeNull();
    expect(await rs.check('base', { consume: false })).toMatchObject({ allowed: false });
  });

  it('getOrClone returns one limiter per unique id and keeps at most maxClones', async () => {
    const rs = make(3);
    const a = await rs.getOrClone('base', 'tenant-a');
    expect(a).toMatchObject({ id: 'base:tenant-a', store: 's', engine: 'memory', burst: 2 });
    expect(await rs.getOrClone('base', 'tenant-a')).toEqual(a);
    await rs.check('base:tenant-a');
    await rs.check('base:tenant-a');
    for (const t of ['b', 'c', 'd', 'e']) await rs.getOrClone('base', `tenant-${t}`);
    expect(rs.limiterIds()).toHaveLength(4);
    // Evicted, then re-created: its counts live in the store, so nothing is forgotten.
    await rs.getOrClone('base', 'tenant-a');
    expect((await rs.check('base:tenant-a')).allowed).toBe(false);
  });

  it('getOrClone applies overrides, rebuilds the clone when they change, and keeps its counts', async () => {
    const rs = make();
    const acme = await rs.getOrClone('base', 'acme', { burst: 3, ratePerSecond: 1 });
    expect(acme).toMatchObject({ id: 'base:acme', burst: 3 });
    // The same overrides in another order: the same clone, nothing rebuilt.
    expect(await rs.getOrClone('base', 'acme', { ratePerSecond: 1, burst: 3 })).toEqual(acme);
    expect((await rs.check('base:acme', { cost: 3 })).allowed).toBe(true);
    // Invalid overrides throw and leave the clone as it was.
    await expect(rs.getOrClone('base', 'acme', { burst: -1 })).rejects.toThrow(
      ConfigValidationError,
    );
    expect(rs.list().find((l) => l.id === 'base:acme')).toMatchObject({ burst: 3 });
    // A new contract: rebuilt with it, and the three units taken still count.
    expect(await rs.getOrClone('base', 'acme', { burst: 4 })).toMatchObject({ burst: 4 });
    expect((await rs.check('base:acme')).allowed).toBe(true);
    expect((await rs.check('base:acme')).allowed).toBe(false);
    // No overrides: back to the base's settings.
    expect(await rs.getOrClone('base', 'acme')).toMatchObject({ burst: 2 });
    await expect(rs.getOrClone('base', 'x', null as never)).rejects.toThrow(/overrides/);
  });

  it('getOrClone gives distinct (base, unique id) pairs distinct limiters', async () => {
    const rs = new RateSync(
      {
        stores: { s: { engine: 'memory' } },
        limiters: {
          api: { store: 's', ratePerSecond: 1 },
          'api:a': { store: 's', ratePerSecond: 1 },
        },
      },
      { clock: new ManualClock() },
    );
    const first = await rs.getOrClone('api', 'a:b');
    const second = await rs.getOrClone('api:a', 'b');
    expect(first.id).not.toBe(second.id);
    expect((await rs.check(first.id)).allowed).toBe(true);
    // The other clone's bucket is untouched.
    expect((await rs.check(second.id)).allowed).toBe(true);
    expect((await rs.check(first.id)).allowed).toBe(false);
    // A configured limiter is never handed out as somebody's clone.
    await expect(rs.getOrClone('api', 'a')).rejects.toThrow(/'api:a' is a configured limiter/);
    rs.clone('api', 'api:x');
    await expect(rs.getOrClone('api', 'x')).rejects.toThrow(/not a clone of 'api'/);
  });

  it('list() shows settings and no secret', () => {
    const rs = new RateSync({
      stores: { r: { engine: 'memory' } },
      limiters: {
        x: {
          store: 'r',
          algorithm: 'sliding_window',
          limit: 3,
          windowSeconds: 9,
          failClosed: true,
        },
      },
    });
    expect(rs.list()).toEqual([
      expect.objectContaining({
        id: 'x',
        engine: 'memory',
        algorithm: 'sliding_window',
        limit: 3,
        failClosed: true,
      }),
    ]);
  });

  it('a limiter naming an unknown store is a typed error', () => {
    expect(
      () => new RateSync({ stores: {}, limiters: { x: { store: 'gone', ratePerSecond: 1 } } }),
    ).toThrow(StoreNotFoundError);
  });

  it('rejects NaN or negative timeouts with the argument name', async () => {
    const rs = make();
    await expect(rs.acquire('base', { timeout: -1 })).rejects.toThrow(/^timeout:/);
    await expect(rs.acquire('base', { timeout: Number.NaN })).rejects.toThrow(/^timeout:/);
  });

  it('rejects a composite naming the same limiter and key twice (it would be charged once)', async () => {
    const rs = make();
    await expect(rs.checkAll(['base', 'base'], { key: 'u' })).rejects.toThrow(/^limiterIds:/);
  });
});
