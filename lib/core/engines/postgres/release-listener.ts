import type { Client, Notification } from 'pg';
import { quoteIdent } from './identifiers';
import { errorText } from '../../error-text';
import type { ReleaseWake } from '../engine';

/** What the listener needs from its engine. */
export interface ReleaseListenerOptions {
  readonly storeId: string;
  /** The store's channel (see PostgresNames.channel). */
  readonly channel: string;
  /** A new, unconnected client with the store's connection settings. */
  readonly createClient: () => Client;
  /** Rate-limited warning sink. */
  readonly warn: (topic: string, message: string) => void;
}

const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5_000;

/**
 * Wakes concurrency waiters when a lease is released in any process: one dedicated LISTEN
 * connection per store, opened on the first subscription, dispatching NOTIFY payloads (the
 * storage key, or `*<limiter>` after a reset of a whole limiter) to the listeners of that key.
 *
 * A notification sent before LISTEN took effect is lost, so every time the connection is
 * (re)established all listeners are called once with `missed`: every waiter re-checks, where
 * a lost notification would make one sleep until its next re-check. A lost connection is
 * re-opened with backoff (unref'ed timer) while anyone listens.
 */
export class ReleaseListener {
  private readonly listeners = new Map<string, Set<ReleaseWake>>();
  /** The connection in use, LISTENing. */
  private client?: Client;
  /** The connection being opened, if any. */
  private pending?: Client;
  private retryTimer?: NodeJS.Timeout;
  private backoffMs = MIN_BACKOFF_MS;
  private closed = false;

  constructor(private readonly o: ReleaseListenerOptions) {}

  /** Calls `listener` on each release of `key`. Returns the unsubscribe function (idempotent). */
  subscribe(key: string, listener: ReleaseWake): () => void {
    let set = this.listeners.get(key);
    if (!set) this.listeners.set(key, (set = new Set()));
    const entry: ReleaseWake = (missed) => listener(missed);
    set.add(entry);
    this.ensureStarted();
    return () => {
      set.delete(entry);
      if (set.size === 0 && this.listeners.get(key) === set) this.listeners.delete(key);
    };
  }

  /** Number of keys with listeners. */
  get size(): number {
    return this.listeners.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private ensureStarted(): void {
    if (this.closed || this.client || this.pending || this.retryTimer) return;
    void this.start();
  }

  private async start(): Promise<void> {
    const client = this.o.createClient();
    this.pending = client;
    let lost = false;
    const onLost = (err?: Error): void => {
      if (lost) return;
      lost = true;
      this.lost(client, err);
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    client.on('notification', (n: Notification) => {
      if (n.channel === this.o.channel && n.payload !== undefined) this.dispatch(n.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${quoteIdent(this.o.channel)}`);
    } catch (err) {
      onLost(err as Error);
      client.end().catch(() => undefined);
      return;
    }
    // Lost while opening (the retry is already scheduled), or closed meanwhile.
    if (lost) return;
    this.pending = undefined;
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.backoffMs = MIN_BACKOFF_MS;
    this.wakeAll();
  }

  private lost(client: Client, err?: Error): void {
    if (this.client === client) this.client = undefined;
    if (this.pending === client) this.pending = undefined;
    if (this.closed) return;
    this.o.warn(
      'listen',
      `Store '${this.o.storeId}': the LISTEN connection for lease releases is down` +
        `${err ? ` (${errorText(err)})` : ''}; waiters fall back to lease expiry until it is back.`,
    );
    if (this.listeners.size === 0 || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.ensureStarted();
    }, this.backoffMs);
    this.retryTimer.unref();
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
  }

  private dispatch(payload: string): void {
    if (!payload.startsWith('*')) return this.call(this.listeners.get(payload));
    const prefix = payload.slice(1);
    for (const [key, set] of this.listeners) {
      if (key === prefix || key.startsWith(`${prefix}:`)) this.call(set);
    }
  }

  private wakeAll(): void {
    for (const set of this.listeners.values()) this.call(set, true);
  }

  /** Calls listeners: for one release, or with `missed` when releases may have gone unheard. */
  private call(set: Set<ReleaseWake> | undefined, missed = false): void {
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(missed);
      } catch (err) {
        this.o.warn(
          'listener',
          `Store '${this.o.storeId}': a release listener threw: ${errorText(err)}`,
        );
      }
    }
  }
}
