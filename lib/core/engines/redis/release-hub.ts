import type { Cluster, Redis } from 'ioredis';
import { quitOrDisconnect } from './client-lifecycle';
import type { RedisClient } from './redis-connection';
import type { ReleaseWake } from '../engine';
import { errorText } from '../../error-text';

/** How the hub reports problems (rate limited and scrubbed by the engine). */
export type HubWarn = (topic: string, message: string) => void;

/** How the hub gets its subscriber. */
export interface ReleaseHubOptions {
  /** The store's client is a Cluster. */
  readonly isCluster: boolean;
  /**
   * Subscribe on a duplicate of a Cluster client rather than on the client itself (which an
   * application that gave its own Cluster may use for its own subscriptions).
   */
  readonly duplicateCluster: boolean;
  /** `CLIENT SETNAME` of a plain subscriber connection. */
  readonly connectionName: string;
  readonly warn: HubWarn;
}

/**
 * Release notifications of one store: one subscriber connection, created on the first
 * {@link ReleaseHub.listen}, subscribed to a key's channel while at least one listener wants it
 * (reference counted), unsubscribed when the last one leaves.
 *
 * Listeners are also called with `missed`, on purpose, in two cases where releases could
 * otherwise go unheard: once when their channel's subscription becomes active (a release may
 * have happened between the waiter's rejection and the SUBSCRIBE), and once when the
 * subscriber reconnects after an outage (messages published meanwhile are lost). Such a call
 * costs each waiter one re-check; a missed release would cost a waiter its wait until its next
 * re-check.
 *
 * On a plain Redis the subscriber is a duplicate of the store's client; it does its own
 * resubscription on reconnect. On a Cluster, ioredis already keeps a dedicated subscriber
 * connection per Cluster client (re-selected and resubscribed when its node fails), so the
 * store's own client is used directly, and a duplicate of a Cluster the application gave.
 */
export class ReleaseHub {
  private sub?: RedisClient;
  private readonly channels = new Map<string, Set<ReleaseWake>>();
  private closed = false;
  private readonly isCluster: boolean;
  private readonly warn: HubWarn;

  constructor(
    private readonly client: RedisClient,
    private readonly o: ReleaseHubOptions,
  ) {
    this.isCluster = o.isCluster;
    this.warn = o.warn;
  }

  /** Calls `listener` on every release published on `channel`. Returns the unsubscribe. */
  listen(channel: string, listener: ReleaseWake): () => void {
    let set = this.channels.get(channel);
    if (!set) {
      this.channels.set(channel, (set = new Set()));
      this.subscribe([channel]);
    }
    set.add(listener);
    const own = set;
    return () => {
      if (!own.delete(listener) || own.size > 0 || this.channels.get(channel) !== own) return;
      this.channels.delete(channel);
      const sub = this.sub;
      if (sub && !this.closed && (this.isCluster || sub.status === 'ready')) {
        sub.unsubscribe(channel).catch((err) => this.warn('unsubscribe', errorText(err)));
      }
    };
  }

  /** Number of channels currently subscribed (for tests and introspection). */
  get size(): number {
    return this.channels.size;
  }

  /**
   * Closes the subscriber connection (not the store's client). Idempotent. Resolves to false
   * when ioredis may have left a disconnect timer behind (see `quitOrDisconnect`).
   */
  async close(): Promise<boolean> {
    this.closed = true;
    this.channels.clear();
    const sub = this.sub;
    this.sub = undefined;
    return sub && sub !== this.client ? quitOrDisconnect(sub) : true;
  }

  private subscribe(channels: string[]): void {
    if (this.closed || channels.length === 0) return;
    const sub = this.subscriber();
    // A plain subscriber that is not ready yet subscribes everything on its 'ready' event.
    if (!this.isCluster && sub.status !== 'ready') return;
    sub.subscribe(...channels).then(
      () => channels.forEach((c) => this.wake(c, true)),
      (err) => this.warn('subscribe', `cannot subscribe to release channels: ${errorText(err)}`),
    );
  }

  private subscriber(): RedisClient {
    if (this.sub) return this.sub;
    if (this.isCluster && !this.o.duplicateCluster) {
      this.sub = this.client;
    } else if (this.isCluster) {
      const sub = (this.client as Cluster).duplicate([], { lazyConnect: false });
      sub.on('error', (err) => this.warn('subscriber', `release subscriber: ${errorText(err)}`));
      this.sub = sub;
    } else {
      const sub = (this.client as Redis).duplicate({
        lazyConnect: false,
        autoResubscribe: false,
        connectionName: this.o.connectionName,
      });
      sub.on('error', (err) => this.warn('subscriber', `release subscriber: ${errorText(err)}`));
      sub.on('ready', () => this.subscribe([...this.channels.keys()]));
      this.sub = sub;
    }
    this.sub.on('message', (channel: string) => this.wake(channel));
    return this.sub;
  }

  /** Calls the channel's listeners: for one release, or with `missed` when some went unheard. */
  private wake(channel: string, missed = false): void {
    const set = this.channels.get(channel);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(missed);
      } catch (err) {
        this.warn('listener', `a release listener threw: ${errorText(err)}`);
      }
    }
  }
}
