import type { Permit } from '../../core';

/**
 * Ties a permit to one HTTP request and releases it once, when the handler's work and the
 * response are both over: a concurrency slot bounds work, not connections, so a client that
 * disconnects does not free the slot while its handler still runs. A handler that never
 * started (another guard rejected the request, or the client left first) releases with the
 * response.
 */
export class RequestPermit {
  private handler: 'pending' | 'running' | 'done' = 'pending';
  private responseOver = false;
  private settled = false;

  constructor(private readonly permit: Permit) {}

  /**
   * The handler is about to run. False when the request is already over (its client left):
   * the handler must not run then, and the slot is already released.
   */
  start(): boolean {
    if (this.settled) return false;
    this.handler = 'running';
    return true;
  }

  /** The handler's work is over (returned, threw, or its observable ended). */
  finish(): void {
    this.handler = 'done';
    this.settle();
  }

  /** The response finished, or the connection closed. */
  responseDone(): void {
    this.responseOver = true;
    this.settle();
  }

  private settle(): void {
    if (this.settled || !this.responseOver || this.handler === 'running') return;
    this.settled = true;
    void this.permit.release();
  }
}

/** The permit of each admitted request that holds concurrency slots. */
const byRequest = new WeakMap<object, RequestPermit>();

/** Registers the permit of an admitted request. */
export function holdForRequest(request: object, permit: Permit): RequestPermit {
  const held = new RequestPermit(permit);
  byRequest.set(request, held);
  return held;
}

/** The permit a request holds, if it holds concurrency slots. */
export function requestPermit(request: object): RequestPermit | undefined {
  return byRequest.get(request);
}
