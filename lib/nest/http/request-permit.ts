import type { Permit } from '../../core';
import type { HandlerOutcome } from '../decorators/rate-limit-options.interface';

/** Settles a permit once the call is over: refund or release (see `CompiledLimit.settle`). */
export type SettlePermit = (permit: Permit, outcome: HandlerOutcome) => Promise<void>;

/**
 * Ties a permit to one HTTP request and settles it once, when the handler's work and the
 * response are both over: a concurrency slot bounds work, not connections, so a client that
 * disconnects does not free the slot while its handler still runs. A handler that never
 * started (another guard rejected the request, or the client left first) settles with the
 * response. Settling releases the permit, or refunds it when the route's `refundWhen` says so
 * given the response's status and what the handler threw.
 */
export class RequestPermit {
  private handler: 'pending' | 'running' | 'done' = 'pending';
  private responseOver = false;
  private settled = false;
  private error?: unknown;

  constructor(
    private readonly permit: Permit,
    private readonly settleWith?: SettlePermit,
    /** The response's status code once it is over. */
    private readonly statusOf?: () => number | undefined,
  ) {}

  /**
   * The handler is about to run. False when the request is already over (its client left):
   * the handler must not run then, and the slot is already released.
   */
  start(): boolean {
    if (this.settled) return false;
    this.handler = 'running';
    return true;
  }

  /** The handler threw, or its observable errored. */
  failed(error: unknown): void {
    this.error = error;
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
    if (!this.settleWith) return void this.permit.release();
    const outcome = { status: this.statusOf?.(), error: this.error };
    void this.settleWith(this.permit, outcome);
  }
}

/** The permit of each admitted request that settles after its call. */
const byRequest = new WeakMap<object, RequestPermit>();

/** Registers the permit of an admitted request. */
export function holdForRequest(
  request: object,
  permit: Permit,
  settleWith?: SettlePermit,
  statusOf?: () => number | undefined,
): RequestPermit {
  const held = new RequestPermit(permit, settleWith, statusOf);
  byRequest.set(request, held);
  return held;
}

/** The permit a request holds, if it settles after its call. */
export function requestPermit(request: object): RequestPermit | undefined {
  return byRequest.get(request);
}
