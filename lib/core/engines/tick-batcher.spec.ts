import { TickBatcher } from './tick-batcher';

describe('TickBatcher', () => {
  it('sends the calls of one tick together, split by group and by size, results in order', async () => {
    const sent: number[][] = [];
    const b = new TickBatcher<number, string>(
      async (items) => {
        sent.push(items);
        return items.map((n) => `r${n}`);
      },
      { maxBatch: 3, groupOf: (n) => n % 2 },
    );
    const results = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map((n) => b.submit(n)));
    expect(results).toEqual(['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8']);
    // Four calls of a group with at most 3 a send: two equal sends.
    expect(sent).toEqual([
      [1, 3],
      [5, 7],
      [2, 4],
      [6, 8],
    ]);
    // A later tick is a new batch.
    await b.submit(9);
    expect(sent[sent.length - 1]).toEqual([9]);
  });

  it('splits a big tick into two equal sends or more, so that sends overlap; a small one goes whole', async () => {
    const sizes: number[] = [];
    const b = new TickBatcher<number, number>(
      async (items) => {
        sizes.push(items.length);
        return items;
      },
      { maxBatch: 128, splitFrom: 16 },
    );
    const tick = (n: number) => Promise.all(Array.from({ length: n }, (_, i) => b.submit(i)));
    await expect(tick(15)).resolves.toHaveLength(15);
    expect(sizes).toEqual([15]);
    await tick(16);
    await tick(41);
    await tick(300);
    expect(sizes).toEqual([15, 8, 8, 21, 20, 100, 100, 100]);
    // Without splitFrom, only the size bound splits.
    const whole: number[] = [];
    const c = new TickBatcher<number, number>(
      async (items) => {
        whole.push(items.length);
        return items;
      },
      { maxBatch: 128 },
    );
    await Promise.all(Array.from({ length: 41 }, (_, i) => c.submit(i)));
    expect(whole).toEqual([41]);
  });

  it('fails every call of a batch whose send fails or throws, and keeps working', async () => {
    let mode: 'reject' | 'throw' | 'ok' = 'reject';
    const b = new TickBatcher<number, number>(
      (items) => {
        if (mode === 'throw') throw new Error('thrown');
        return mode === 'reject' ? Promise.reject(new Error('rejected')) : Promise.resolve(items);
      },
      { maxBatch: 10 },
    );
    const first = await Promise.allSettled([b.submit(1), b.submit(2)]);
    expect(first.map((s) => s.status)).toEqual(['rejected', 'rejected']);
    mode = 'throw';
    await expect(Promise.all([b.submit(3), b.submit(4)])).rejects.toThrow('thrown');
    mode = 'ok';
    await expect(b.submit(5)).resolves.toBe(5);
  });

  it('fails the calls still queued when told to (close), and sends nothing for them', async () => {
    const send = jest.fn(async (items: number[]) => items);
    const b = new TickBatcher<number, number>(send, { maxBatch: 10 });
    const pending = [b.submit(1), b.submit(2)];
    b.failQueued(new Error('closed'));
    const settled = await Promise.allSettled(pending);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected']);
    expect(send).not.toHaveBeenCalled();
  });

  it('sends a batch of one by sendOne when given, a bigger one by send', async () => {
    const sent: string[] = [];
    const b = new TickBatcher<number, number>(
      async (items) => {
        sent.push(`send ${items.join(',')}`);
        return items;
      },
      {
        maxBatch: 10,
        groupOf: (n) => n % 2,
        sendOne: async (n) => {
          sent.push(`one ${n}`);
          return n;
        },
      },
    );
    await expect(b.submit(1)).resolves.toBe(1);
    await expect(Promise.all([b.submit(2), b.submit(3), b.submit(5)])).resolves.toEqual([2, 3, 5]);
    expect(sent).toEqual(['one 1', 'one 2', 'send 3,5']);
  });
});
