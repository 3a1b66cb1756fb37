/**
 * Sends the calls of one tick, one turn of the event loop, together. The first call of a
 * tick schedules the flush with `setImmediate`, which runs once the loop has handled every
 * I/O event of this turn: the requests that arrived together (a guard's calls under HTTP
 * load, each started by its own socket event) and every call started while handling a burst
 * of replies join one send. `process.nextTick` would flush after each event, so HTTP traffic
 * would never batch (measured: 1.00 script calls per request with it, 0.07–0.16 with
 * `setImmediate`, and 1.5× the requests per second). At one call in flight a batch holds one
 * call, and it leaves as soon as the loop reaches its check phase.
 *
 * Used by the engines for their hot path (a lone token bucket): a round trip costs the client
 * a socket write and a reply parse and the server a dispatch (and, on PostgreSQL, a commit),
 * about as much as the decision itself, and a batch pays them once.
 *
 * A failed send fails each call of its batch with the send's error, so each caller applies its
 * own fail-open or fail-closed. Every flush empties the queue, whatever happens.
 */
export class TickBatcher<T, R> {
  private queue: Pending<T, R>[] = [];

  constructor(
    /** Sends one batch: one result per item, in order. */
    private readonly send: (items: T[]) => Promise<R[]>,
    private readonly options: TickBatcherOptions<T, R>,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      if (this.queue.length === 0) setImmediate(this.flush);
      this.queue.push({ item, resolve, reject });
    });
  }

  /** Fails the calls still queued with `err` now (on close); the scheduled flush finds none. */
  failQueued(err: unknown): void {
    const queue = this.queue;
    this.queue = [];
    for (const p of queue) p.reject(err);
  }

  private readonly flush = (): void => {
    const queue = this.queue;
    this.queue = [];
    const { groupOf } = this.options;
    if (queue.length === 1 || !groupOf) return this.sendAll(queue);
    const groups = new Map<number, Pending<T, R>[]>();
    for (const p of queue) {
      const g = groupOf(p.item);
      const group = groups.get(g);
      if (group) group.push(p);
      else groups.set(g, [p]);
    }
    for (const group of groups.values()) this.sendAll(group);
  };

  /** Sends a group's calls as one batch, or as several equal ones (see the options). */
  private sendAll(queue: Pending<T, R>[]): void {
    const { maxBatch, splitFrom = Infinity } = this.options;
    const n = queue.length;
    const sends = Math.max(Math.ceil(n / maxBatch), n >= splitFrom ? 2 : 1);
    if (sends === 1) return this.sendBatch(queue);
    const size = Math.ceil(n / sends);
    for (let i = 0; i < n; i += size) this.sendBatch(queue.slice(i, i + size));
  }

  private sendBatch(batch: Pending<T, R>[]): void {
    const { sendOne } = this.options;
    if (batch.length === 1 && sendOne) return this.sendLone(batch[0], sendOne);
    const items = new Array<T>(batch.length);
    for (let i = 0; i < batch.length; i++) items[i] = batch[i].item;
    let sent: Promise<R[]>;
    try {
      sent = this.send(items);
    } catch (err) {
      sent = Promise.reject(err);
    }
    sent.then(
      (results) => {
        for (let i = 0; i < batch.length; i++) batch[i].resolve(results[i]);
      },
      (err: unknown) => {
        for (const p of batch) p.reject(err);
      },
    );
  }

  /** A batch of one by the options' `sendOne`: no arrays, one promise hop. */
  private sendLone(p: Pending<T, R>, sendOne: (item: T) => Promise<R>): void {
    let sent: Promise<R>;
    try {
      sent = sendOne(p.item);
    } catch (err) {
      return p.reject(err);
    }
    sent.then(p.resolve, p.reject);
  }
}

export interface TickBatcherOptions<T, R = unknown> {
  /** At most this many items per send; a bigger tick is sent as several equal ones. */
  readonly maxBatch: number;
  /** Items of different groups never share a send (a Redis Cluster slot, for example). */
  readonly groupOf?: (item: T) => number;
  /**
   * A tick of this many items or more goes as two sends at least (default: never). With one
   * send per tick client and server take turns: every caller of the tick waits on the one
   * reply, and the next tick's calls leave only once it is decoded, so each side idles while
   * the other works. Two sends on one connection overlap them: the client decodes the first
   * reply while the server runs the second call. The Redis engine sets it (see
   * docs/performance.md for what it gains); the PostgreSQL engine does not, as its sends go
   * over separate pooled connections and measured no faster split.
   */
  readonly splitFrom?: number;
  /**
   * Sends a batch of one, the batch of every call at one call in flight, instead of `send`:
   * an engine's path for a lone decision, which need not build or read a batch's arrays.
   */
  readonly sendOne?: (item: T) => Promise<R>;
}

interface Pending<T, R> {
  readonly item: T;
  readonly resolve: (result: R) => void;
  readonly reject: (err: unknown) => void;
}
