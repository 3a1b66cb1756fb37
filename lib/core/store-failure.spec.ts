import { BreakerOpenError } from './circuit-breaker';
import { ManualClock } from './clock';
import type { AcquireRequest, Engine } from './engines/engine';
import { MemoryEngine } from './engines/memory';
import { InvalidArgumentError, RateSyncError, StoreUnavailableError } from './errors';
import { RateSync } from './rate-sync';
import { isConnectivityFailure } from './store-failure';

/** An engine's wrapping of a driver error, as the redis and postgres engines throw them. */
const wrapped = (cause: unknown) =>
  new RateSyncError(`Store 's' (x) acquire failed: ${(cause as Error).message ?? cause}`, {
    cause,
  });
const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('isConnectivityFailure', () => {
  it.each([
    ['ioredis: Command timed out', new Error('Command timed out')],
    ['ioredis: Connection is closed.', new Error('Connection is closed.')],
    [
      'ioredis offline',
      new Error("Stream isn't writeable and enableOfflineQueue options is false"),
    ],
    ['refused', withCode('connect ECONNREFUSED 127.0.0.1:1', 'ECONNREFUSED')],
    ['reset', withCode('read ECONNRESET', 'ECONNRESET')],
    ['pg: terminated', new Error('Connection terminated unexpectedly')],
    ['pg: pool exhausted', new Error('timeout exceeded when trying to connect')],
    ['pg: our query deadline', new Error('Query read timeout')],
    ['pg: statement timeout', withCode('canceling statement due to statement timeout', '57014')],
    ['pg: admin shutdown', withCode('terminating connection', '57P01')],
    ['pg: too many connections', withCode('sorry, too many clients already', '53300')],
    ['node-redis: socket closed', new Error('Socket closed unexpectedly')],
    ['node-redis: destroyed', new Error('Disconnects client')],
    [
      'node-redis: in flight at close',
      new Error('Command aborted while waiting for a reply; it may have been executed'),
    ],
    ['node-redis cluster: no root node', new Error('All the root nodes are unavailable')],
    ['node-redis cluster: moving slots', new Error('Too many Cluster redirections')],
    ['node-redis cluster: slot not covered', new Error('Could not find shard')],
    ['node-redis cluster: closed', new Error('Cluster closed')],
    ['redis: loading', new Error('LOADING Redis is loading the dataset in memory')],
    ['redis: busy script', new Error('BUSY Redis is busy running a script')],
    ['the breaker itself', new BreakerOpenError(1000)],
  ])('%s counts toward the breaker, wrapped or not', (_, err) => {
    expect(isConnectivityFailure(err)).toBe(true);
    expect(isConnectivityFailure(wrapped(err))).toBe(true);
  });

  it.each([
    [
      'pg: integer out of range',
      withCode('value "2147483648" is out of range for type integer', '22003'),
    ],
    ['pg: invalid input', withCode('invalid input syntax for type double precision', '22P02')],
    [
      'redis: script error',
      new Error('ERR user_script:1: Script attempted to access nonexistent global'),
    ],
    ['redis: bad expire', new Error("ERR invalid expire time in 'pexpire' command")],
    ['a bare value', 'boom'],
  ])('%s is the call alone', (_, err) => {
    expect(isConnectivityFailure(err)).toBe(false);
    expect(isConnectivityFailure(wrapped(err))).toBe(false);
  });
});

describe('one bad call cannot open the breaker', () => {
  /** A memory store whose `bulk` decisions fail as PostgreSQL fails on an out-of-range number. */
  const setup = () => {
    const clock = new ManualClock();
    const memory = new MemoryEngine({ clock });
    const acquire = jest.fn(async (requests: readonly AcquireRequest[]) => {
      if (requests.some((r) => r.policy.id === 'bulk')) {
        throw wrapped(withCode('value "2147483648" is out of range for type integer', '22003'));
      }
      return memory.acquire(requests);
    });
    const engine: Engine = Object.assign(Object.create(memory) as MemoryEngine, { acquire });
    const rs = new RateSync(
      {
        stores: { s: { engine: 'memory' } },
        limiters: {
          bulk: { store: 's', ratePerSecond: 1 },
          login: { store: 's', algorithm: 'sliding_window', limit: 3, windowSeconds: 60 },
          slots: { store: 's', maxConcurrent: 2 },
        },
      },
      {
        clock,
        createEngine: () => engine,
        logger: { log: () => undefined, warn: () => undefined, error: () => undefined },
      },
    );
    return { rs, acquire };
  };

  it('a data error fails its call naming the limiter; another limiter stays exact', async () => {
    const { rs } = setup();
    const failed = rs.acquire('bulk', { timeout: 1 });
    await expect(failed).rejects.toBeInstanceOf(RateSyncError);
    await expect(rs.acquire('bulk', { timeout: 1 })).rejects.toThrow(
      /^Limiter 'bulk': store 's' could not decide this call \(.*out of range/,
    );
    const logins = await Promise.all([1, 2, 3, 4, 5, 6].map(() => rs.check('login', { key: 'a' })));
    expect(logins.filter((r) => r.allowed)).toHaveLength(3);
    expect(logins.some((r) => r.failedOpen)).toBe(false);
  });

  it('state() of such a limiter fails with that error too, not as an unavailable store', async () => {
    const { rs } = setup();
    const err = await rs.state('bulk').catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(StoreUnavailableError);
    expect((err as Error).message).toMatch(/^Limiter 'bulk': store 's' could not decide this call/);
  });

  it('a cost above what a limiter can admit is refused before any store call, naming it', async () => {
    const { rs, acquire } = setup();
    await expect(rs.acquire('slots', { cost: 2 })).rejects.toThrow(
      /^cost: limiter 'slots' has only max_concurrent: each acquisition takes one slot, so cost must be 1 \(got 2\)/,
    );
    await expect(rs.acquire('slots', { cost: 2 ** 31 })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(rs.acquire('login', { cost: 4 })).rejects.toThrow(
      /limiter 'login' can ever admit \(3\)/,
    );
    await expect(rs.check('bulk', { cost: 2 })).rejects.toThrow(
      /limiter 'bulk' can ever admit \(1\)/,
    );
    expect(acquire).not.toHaveBeenCalled();
  });
});
