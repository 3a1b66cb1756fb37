import { Client } from 'pg';
import { RateSync } from '../../lib/core';
import { storageKey } from '../../lib/core/keys';
import { PG_URL, describePg, withClient } from '../support/postgres';
import { ProxiedStore } from './proxied-store';

/**
 * Stalls and the leases of calls that gave up. A server that stalls (a row lock held
 * elsewhere) cancels the statement at its `statement_timeout`, before the client gives up, and
 * rolls it back: no lease is left. A reply path that goes silent is different: the statement
 * committed, the reply never came, and the lease belongs to nobody until the engine gives it
 * back once the server answers again. Real time passes on purpose: the subject is a stall.
 */
const SOCKET_TIMEOUT_S = 0.3;
const MAX = 3;

describePg('postgres stall: no ghost leases', () => {
  const store = new ProxiedStore();
  const { proxy, schema } = store;
  let rs: RateSync;

  beforeAll(async () => {
    rs = await store.open(
      {
        tableName: 'stall',
        socketTimeout: SOCKET_TIMEOUT_S,
        socketConnectTimeout: 0.5,
        breakerCooldown: 0.05,
      },
      { slots: { maxConcurrent: MAX, leaseSeconds: 60 } },
    );
  }, 30_000);

  afterAll(() => store.close());

  /** Acquires `MAX` slots of `key` one after another, then releases them: how many were granted. */
  const granted = async (key: string): Promise<number> => {
    const permits = [];
    for (let i = 0; i < MAX; i++) {
      const permit = await rs.tryAcquire('slots', { key });
      if (permit && !permit.result.failedOpen) permits.push(permit);
    }
    await Promise.all(permits.map((p) => p.release()));
    return permits.length;
  };

  /** Runs `fn` while another session's open transaction holds the row of `key` locked. */
  const whileRowLocked = async (key: string, fn: () => Promise<void>): Promise<void> => {
    const locker = new Client({ connectionString: PG_URL });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query(`SELECT 1 FROM "${schema}".stall WHERE key = $1 FOR UPDATE`, [
        storageKey('slots', key),
      ]);
      await fn();
    } finally {
      await locker.end();
    }
  };

  /** `MAX` concurrent acquisitions of `key`, each expected to fail open. */
  const timedOut = async (key: string): Promise<void> => {
    const permits = await Promise.all(
      Array.from({ length: MAX }, () => rs.tryAcquire('slots', { key })),
    );
    expect(permits.every((p) => p?.result.failedOpen)).toBe(true);
  };

  it('a stalled server rolls back what the client gave up on', async () => {
    const key = 'locked';
    expect(await granted(key)).toBe(MAX); // the key's row exists now, without leases
    await whileRowLocked(key, () => timedOut(key));
    await new Promise((r) => setTimeout(r, 100)); // the breaker's cool-down
    expect(await granted(key)).toBe(MAX);
  }, 15_000);

  it('a key whose slots are all held rejects at once, whatever holds its row lock', async () => {
    const key = 'full';
    const held = [];
    for (let i = 0; i < MAX; i++) held.push(await rs.tryAcquire('slots', { key }));
    expect(held.map((p) => p !== null && !p.result.failedOpen)).toEqual([true, true, true]);
    // A transaction elsewhere (a release, say) holds the row: the answer is still the
    // rejection, not a wait for the lock ended by the statement timeout (then fail-open).
    await whileRowLocked(key, async () => {
      const tries = await Promise.all(
        Array.from({ length: MAX }, () => rs.tryAcquire('slots', { key })),
      );
      expect(tries).toEqual([null, null, null]);
      const rejected = await rs.check('slots', { key });
      expect(rejected).toMatchObject({ allowed: false, blockedBy: 'concurrency', remaining: 0 });
    });
    await Promise.all(held.map((p) => p!.release()));
    expect(await granted(key)).toBe(MAX);
  }, 15_000);

  it('a silent reply path: the committed leases are given back once the server answers', async () => {
    const key = 'silent';
    // Three pooled connections, so that each acquisition below reaches the server.
    await Promise.all([1, 2, 3].map(() => rs.check('slots', { key: 'warm', consume: false })));
    proxy.holdReplies();
    await timedOut(key);
    const committed = await withClient(async (c) => {
      const { rows } = await c.query<{ n: number }>(
        `SELECT cardinality(lease_ids) AS n FROM "${schema}".stall WHERE key = $1`,
        [storageKey('slots', key)],
      );
      return rows[0]?.n ?? 0;
    });
    await proxy.down();
    await proxy.up();
    await new Promise((r) => setTimeout(r, 100)); // the breaker's cool-down
    const start = performance.now();
    let free = 0;
    while (free < MAX && performance.now() - start < 3000) {
      free = MAX - ((await rs.state('slots', key)).inFlight ?? 0);
      if (free < MAX) await new Promise((r) => setTimeout(r, 50));
    }
    console.log(
      `postgres stall: ${committed} leases committed behind a silent reply path, ` +
        `all free ${Math.round(performance.now() - start)} ms after it answered again`,
    );
    expect(committed).toBe(MAX);
    expect(await granted(key)).toBe(MAX);
  }, 15_000);
});
