import type { PoolClient, QueryResult } from 'pg';
import { QUERY_TIMEOUT_MESSAGE, QueryDeadlines } from './query-deadline';

/** A pooled client whose queries answer when the test says so. */
function fakeClient() {
  const answers: { resolve: (r: QueryResult) => void; reject: (e: Error) => void }[] = [];
  const client = {
    query: () => new Promise<QueryResult>((resolve, reject) => answers.push({ resolve, reject })),
  } as unknown as PoolClient;
  const result = (n: number) => ({ rows: [{ n }] }) as unknown as QueryResult;
  return { client, answers, result };
}

describe('QueryDeadlines', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('passes answers and errors through, and stops its timer once nothing is pending', async () => {
    const d = new QueryDeadlines(1000);
    const { client, answers, result } = fakeClient();
    const ok = d.query(client, { text: 'a' });
    const bad = d.query(client, { text: 'b' });
    answers[0].resolve(result(1));
    answers[1].reject(new Error('syntax error'));
    await expect(ok).resolves.toEqual(result(1));
    await expect(bad).rejects.toThrow('syntax error');
    jest.advanceTimersByTime(250); // the one sweep finds nothing pending and does not re-arm
    expect(jest.getTimerCount()).toBe(0);
  });

  it('fails a silent query between its limit and a quarter more, and drops its late reply', async () => {
    const d = new QueryDeadlines(1000);
    const { client, answers, result } = fakeClient();
    let outcome: unknown = 'pending';
    const silent = d.query(client, { text: 'x' }).then(
      () => (outcome = 'answered'),
      (err: Error) => (outcome = err.message),
    );
    jest.advanceTimersByTime(999);
    await Promise.resolve();
    expect(outcome).toBe('pending');
    jest.advanceTimersByTime(251);
    await silent;
    expect(outcome).toBe(QUERY_TIMEOUT_MESSAGE);
    answers[0].resolve(result(2)); // too late: ignored, not an unhandled rejection
    await Promise.resolve();
    expect(outcome).toBe(QUERY_TIMEOUT_MESSAGE);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('gives a bound client its own, longer limit', async () => {
    const d = new QueryDeadlines(1000);
    const { client, answers, result } = fakeClient();
    const ddl = d.bound(client, 10_000).query('CREATE TABLE t ()');
    const decision = d.query(client, { text: 'SELECT 1' });
    jest.advanceTimersByTime(1250);
    await expect(decision).rejects.toThrow(QUERY_TIMEOUT_MESSAGE);
    answers[0].resolve(result(3));
    await expect(ddl).resolves.toEqual(result(3));
  });

  it('answers a callback query once: its reply, its error, its limit or a synchronous throw', () => {
    const d = new QueryDeadlines(1000);
    const calls: { cb: (err: Error | null, r?: QueryResult) => void }[] = [];
    const client = {
      query: (_config: unknown, cb: (err: Error | null, r?: QueryResult) => void) => {
        calls.push({ cb });
      },
    } as unknown as PoolClient;
    const seen: string[] = [];
    const done = (err: Error | undefined, r?: QueryResult) =>
      seen.push(err ? err.message : `rows ${r?.rows.length}`);
    d.send(client, { text: 'a' }, done);
    d.send(client, { text: 'b' }, done);
    d.send(client, { text: 'c' }, done);
    calls[0].cb(null, { rows: [{}] } as unknown as QueryResult);
    calls[1].cb(new Error('syntax error'));
    jest.advanceTimersByTime(1250);
    calls[2].cb(null, { rows: [] } as unknown as QueryResult); // too late: ignored
    const throwing = {
      query: () => {
        throw new Error('not queryable');
      },
    } as unknown as PoolClient;
    d.send(throwing, { text: 'd' }, done);
    jest.advanceTimersByTime(1250); // the throw settled it: the sweep does not answer it again
    expect(seen).toEqual(['rows 1', 'syntax error', QUERY_TIMEOUT_MESSAGE, 'not queryable']);
    expect(jest.getTimerCount()).toBe(0);
  });
});
