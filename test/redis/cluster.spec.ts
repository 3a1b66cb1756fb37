import { Cluster } from 'ioredis';
import { createCluster } from 'redis';
import { RateSync, StoreUnavailableError } from '../../lib/core';
import type { RedisEngine } from '../../lib/core/engines/redis';
import { slotOf } from '../../lib/core/engines/redis/cluster-slot';
import { storageKey } from '../../lib/core/keys';
import { toPolicy } from '../../lib/core/policy';
import { answersContract } from '../contract/answers-contract';
import { blockContract } from '../contract/block-contract';
import type { ContractTarget } from '../contract/contract-target';
import { engineContract } from '../contract/engine-contract';
import { refundContract } from '../contract/refund-contract';
import { describeRedisBinaries, uniquePrefix } from '../support/redis';
import { MemoLogger, openEngine, req } from './engine-fixture';

const DRIVERS = ['ioredis', 'node-redis'] as const;
import { RedisCluster } from './redis-cluster';

/**
 * The Redis engine on a real 3-master Redis Cluster started by the test: the engine contract,
 * many keys over every master, composites whose layers live in different slots (decided slot
 * by slot, undone when a later slot rejects), a limiter-wide reset that scans every master,
 * and release notifications across clients.
 */
describeRedisBinaries('redis cluster (3 masters)', () => {
  let cluster: RedisCluster;
  const engines: RedisEngine[] = [];

  beforeAll(async () => {
    cluster = await RedisCluster.start();
  }, 60_000);
  afterEach(async () => {
    await Promise.all(engines.splice(0).map((e) => e.close()));
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  /** A cluster client of the application, connected, and how to tell it is still usable. */
  interface AppCluster {
    readonly client: object;
    readonly ready: () => boolean;
    readonly set: (key: string) => Promise<unknown>;
    readonly close: () => void;
  }
  const appClusters: Record<(typeof DRIVERS)[number], () => Promise<AppCluster>> = {
    ioredis: async () => {
      const client = new Cluster(
        cluster.nodes.map((n) => ({ host: '127.0.0.1', port: Number(n.split(':')[1]) })),
      );
      await new Promise((resolve) => client.once('ready', resolve));
      return {
        client,
        ready: () => client.status === 'ready',
        set: (key) => client.set(key, '1'),
        close: () => client.disconnect(),
      };
    },
    'node-redis': async () => {
      const client = createCluster({
        rootNodes: cluster.nodes.map((n) => ({ url: `redis://${n}` })),
        RESP: 2,
      });
      client.on('error', () => undefined);
      await client.connect();
      return {
        client,
        ready: () => client.isReady,
        set: (key) => client.set(key, '1'),
        close: () => client.destroy(),
      };
    },
  };

  it.each(DRIVERS)(
    'runs on a %s cluster client given in code, subscribing on a copy, and leaves it open',
    async (driver) => {
      const app = await appClusters[driver]();
      try {
        const logger = new MemoLogger();
        const rs = new RateSync(
          {
            stores: {
              app: { engine: 'redis', client: app.client, keyPrefix: uniquePrefix('clb') },
            },
            limiters: { jobs: { store: 'app', maxConcurrent: 1 } },
          },
          { logger },
        );
        await rs.connect();
        const held = await rs.acquire('jobs', { key: 'k' });
        const waiting = rs.acquire('jobs', { key: 'k', timeout: 10 });
        await new Promise((r) => setTimeout(r, 200));
        const started = performance.now();
        await held.release();
        await (await waiting).release();
        // Woken by the release (pub/sub on the store's own copy), not by the lease expiry.
        expect(performance.now() - started).toBeLessThan(2000);
        expect((await rs.state('jobs', 'k')).inFlight).toBe(0);
        await rs.close();
        expect(app.ready()).toBe(true);
        expect(await app.set(`${uniquePrefix('clb')}:{x}`)).toBe('OK');
        expect(logger.lines.filter((l) => l.includes('subscri'))).toEqual([]);
      } finally {
        app.close();
      }
    },
  );

  it.each(DRIVERS)(
    'fails fast, as configured, when the application closes its %s cluster client while running',
    async (driver) => {
      const app = await appClusters[driver]();
      const logger = new MemoLogger();
      const rs = new RateSync(
        {
          stores: { app: { engine: 'redis', client: app.client, keyPrefix: uniquePrefix('clx') } },
          limiters: {
            open: { store: 'app', ratePerSecond: 1000 },
            closed: { store: 'app', ratePerSecond: 1000, failClosed: true },
          },
        },
        { logger },
      );
      try {
        await rs.connect();
        expect((await rs.check('open')).allowed).toBe(true);
        app.close();
        const started = performance.now();
        const open = await rs.check('open');
        expect(open.allowed && open.failedOpen).toBe(true);
        const err = await rs.acquire('closed').catch((e: unknown) => e);
        expect(err).toBeInstanceOf(StoreUnavailableError);
        expect(performance.now() - started).toBeLessThan(1000);
        expect(logger.lines.join('\n')).toMatch(/closed by the application/);
      } finally {
        await rs.close();
      }
    },
  );

  describe.each(DRIVERS)('driver %s', (driver) => {
    const open = async (prefix = uniquePrefix('cl')): Promise<RedisEngine> => {
      const { engine } = await openEngine({
        url: undefined,
        driver,
        clusterNodes: cluster.nodes,
        keyPrefix: prefix,
      });
      engines.push(engine);
      return engine;
    };

    describe('engine contract', () => {
      const target: ContractTarget = {
        name: 'redis-cluster',
        store: () => ({
          engine: 'redis',
          driver,
          clusterNodes: cluster.nodes,
          keyPrefix: uniquePrefix('clc'),
        }),
      };
      engineContract(target);
      // Its composites have layers in several slots: answers, refunds and blocks across nodes.
      answersContract(target);
      refundContract(target);
      blockContract(target);
    });

    it('counts 300 keys exactly, spread over every master', async () => {
      const engine = await open();
      const sw = toPolicy('sw', {
        store: 's',
        algorithm: 'sliding_window',
        limit: 3,
        windowSeconds: 10,
      });
      const keys = Array.from({ length: 300 }, (_, i) => storageKey('sw', `user-${i}`));
      const admitted = await Promise.all(
        keys.map(async (k) => {
          const ds = await Promise.all([1, 2, 3, 4, 5].map(() => engine.acquire([req(sw, k)])));
          return ds.filter(([d]) => d.allowed).length;
        }),
      );
      expect(new Set(admitted)).toEqual(new Set([3]));
      const perNode = cluster.servers.map((s) => Number(s.cli('dbsize').trim()));
      console.log(`cluster: keys per master ${perNode.join(' / ')}`);
      for (const n of perNode) expect(n).toBeGreaterThan(50);
    });

    /** Two storage keys of the limiters, the first in a lower slot than the second. */
    function ordered(a: string, b: string): [string, string] {
      for (let i = 0; ; i++) {
        const ka = storageKey(a, `${a}${i}`);
        const kb = storageKey(b, `${a}${i}`);
        if (slotOf(ka) < slotOf(kb)) return [ka, kb];
      }
    }

    it('composite across slots: a later slot rejecting undoes the earlier ones', async () => {
      const engine = await open();
      const tb = toPolicy('tb', { store: 's', ratePerSecond: 1, burst: 2 });
      const sw = toPolicy('sw', {
        store: 's',
        algorithm: 'sliding_window',
        limit: 3,
        windowSeconds: 30,
      });
      const cc = toPolicy('cc', { store: 's', maxConcurrent: 2, leaseSeconds: 30 });
      const gate = toPolicy('gate', {
        store: 's',
        algorithm: 'sliding_window',
        limit: 1,
        windowSeconds: 30,
      });
      const [kt, kg] = ordered('tb', 'gate');
      const [ks, kg2] = ordered('sw', 'gate');
      const [kc, kg3] = ordered('cc', 'gate');
      for (const [k, gk] of [
        [kt, kg],
        [ks, kg2],
        [kc, kg3],
      ] as const) {
        const policy = k === kt ? tb : k === ks ? sw : cc;
        const first = await engine.acquire([req(policy, k, { leaseId: 'l1' }), req(gate, gk)]);
        expect(first.map((d) => d.allowed)).toEqual([true, true]);
        const before = (await engine.acquire([req(policy, k, { dryRun: true })]))[0];
        const second = await engine.acquire([req(policy, k, { leaseId: 'l2' }), req(gate, gk)]);
        expect(second.map((d) => d.allowed)).toEqual([true, false]);
        const after = (await engine.acquire([req(policy, k, { dryRun: true })]))[0];
        expect(after.remaining).toBe(before.remaining);
        expect(after.inFlight).toBe(before.inFlight);
        // The undone layer reports its state as it is, not as if charged.
        expect(second[0].remaining).toBe(after.remaining);
        expect(second[0].inFlight).toBe(after.inFlight);
      }
    });

    it('composite across slots: an earlier slot rejecting writes nothing anywhere', async () => {
      const engine = await open();
      const gate = toPolicy('gate', {
        store: 's',
        algorithm: 'sliding_window',
        limit: 1,
        windowSeconds: 30,
      });
      const sw = toPolicy('sw', {
        store: 's',
        algorithm: 'sliding_window',
        limit: 5,
        windowSeconds: 30,
      });
      const [kg, ks] = ordered('gate', 'sw');
      await engine.acquire([req(gate, kg)]);
      const ds = await engine.acquire([req(gate, kg), req(sw, ks)]);
      expect(ds.map((d) => d.allowed)).toEqual([false, true]);
      expect(ds[1].remaining).toBe(5);
      expect((await engine.acquire([req(sw, ks, { dryRun: true })]))[0].remaining).toBe(5);
    });

    it('resets a whole limiter on every master, and only that limiter', async () => {
      const prefix = uniquePrefix('clr');
      const engine = await open(prefix);
      const rl = toPolicy('rl', { store: 's', ratePerSecond: 0.01 }); // keys live 100 s
      const rl2 = toPolicy('rl2', { store: 's', ratePerSecond: 0.01 });
      await Promise.all(
        Array.from({ length: 60 }, (_, i) => [
          engine.acquire([req(rl, storageKey('rl', `u${i}`))]),
          engine.acquire([req(rl2, storageKey('rl2', `u${i}`))]),
        ]).flat(),
      );
      const count = (pattern: string): number =>
        cluster.servers.reduce(
          (n, s) => n + s.cli('--scan', '--pattern', pattern).split('\n').filter(Boolean).length,
          0,
        );
      expect(count(`${prefix}:{rl:*`)).toBe(60);
      await engine.reset(rl);
      expect(count(`${prefix}:{rl:*`)).toBe(0);
      expect(count(`${prefix}:{rl2:*`)).toBe(60);
    });

    it('a release through one client wakes a listener of another', async () => {
      const prefix = uniquePrefix('clp');
      const [a, b] = [await open(prefix), await open(prefix)];
      const cc = toPolicy('cc', { store: 's', maxConcurrent: 1 });
      const key = storageKey('cc', 'job');
      await a.acquire([req(cc, key, { leaseId: 'L' })]);
      let calls = 0;
      let woken!: () => void;
      const released = new Promise<void>((r) => (woken = r));
      const off = b.onRelease(cc, key, () => {
        calls++;
        void b.acquire([req(cc, key, { dryRun: true })]).then(([d]) => d.allowed && woken());
      });
      await new Promise((r) => setTimeout(r, 200)); // subscribed (its first call is the catch-up)
      await a.release(cc, key, 'L');
      await released;
      off();
      expect(calls).toBeGreaterThanOrEqual(2);
    });
  });

  // Last: it takes a master down and back.
  describe.each(DRIVERS)('a master killed and restarted (driver %s)', (driver) => {
    it('fails as configured without hanging, then decides exactly again', async () => {
      const socketTimeout = 0.3;
      const logger = new MemoLogger();
      const rs = new RateSync(
        {
          stores: {
            c: {
              engine: 'redis',
              driver,
              clusterNodes: cluster.nodes,
              keyPrefix: uniquePrefix('clf'),
              socketTimeout,
            },
          },
          limiters: {
            open: { store: 'c', ratePerSecond: 100000, burst: 100000 },
            closed: { store: 'c', ratePerSecond: 100000, burst: 100000, failClosed: true },
            exact: { store: 'c', algorithm: 'sliding_window', limit: 5, windowSeconds: 60 },
          },
        },
        { logger },
      );
      await rs.connect();
      const keys = Array.from({ length: 12 }, (_, i) => `user-${i}`);
      const outcomes: Record<string, number> = {};
      let slowest = 0;
      const round = (): Promise<void[]> =>
        Promise.all(
          keys.flatMap((key) =>
            (['open', 'closed'] as const).map(async (id) => {
              const t0 = performance.now();
              const o = await rs.check(id, { key }).then(
                (r) => (r.failedOpen ? 'failedOpen' : r.allowed ? 'ok' : 'rejected'),
                (err: unknown) =>
                  err instanceof StoreUnavailableError ? 'unavailable' : `other ${String(err)}`,
              );
              slowest = Math.max(slowest, performance.now() - t0);
              outcomes[`${id}:${o}`] = (outcomes[`${id}:${o}`] ?? 0) + 1;
            }),
          ),
        );
      try {
        await round();
        expect(outcomes).toEqual({ 'open:ok': 12, 'closed:ok': 12 });
        const victim = cluster.servers[2];
        await victim.stop('SIGKILL');
        for (const end = performance.now() + 3000; performance.now() < end;) await round();
        console.log(
          `cluster fault (${driver}): ${JSON.stringify(outcomes)}, slowest ${Math.round(slowest)} ms`,
        );
        expect(Object.keys(outcomes).filter((o) => o.includes('other'))).toEqual([]);
        expect(outcomes['open:failedOpen']).toBeGreaterThan(0);
        expect(outcomes['closed:unavailable']).toBeGreaterThan(0);
        expect(outcomes['open:rejected'] ?? 0).toBe(0);
        // Never a hang: no call waits much beyond the command timeout (slack for a busy box).
        expect(slowest).toBeLessThan(socketTimeout * 1000 + 700);

        await victim.start();
        const recovered = async (): Promise<boolean> => {
          const rs2 = await Promise.all(
            keys.map((k) => rs.check('closed', { key: k }).catch(() => null)),
          );
          return rs2.every((r) => r?.allowed === true);
        };
        const deadline = performance.now() + 20_000;
        while (!(await recovered())) {
          expect(performance.now()).toBeLessThan(deadline);
          await new Promise((r) => setTimeout(r, 200));
        }
        const exact = await Promise.all(
          Array.from({ length: 10 }, () => rs.check('exact', { key: 'after' })),
        );
        expect(exact.filter((r) => r.allowed && !r.failedOpen)).toHaveLength(5);
      } finally {
        await rs.close();
      }
    }, 60_000);
  });
});
