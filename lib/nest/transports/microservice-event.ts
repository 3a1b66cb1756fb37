import { StoreUnavailableError, type RateLimitResult, type RateSyncLogger } from '../../core';
import type { FunctionLike } from '../function-like';

/** `@nestjs/microservices` PATTERN_HANDLER_METADATA, and its value for `@EventPattern`. */
const HANDLER_TYPE_METADATA = 'microservices:handler_type';
const EVENT_HANDLER = 2;

/** Milliseconds between two warnings about the same handler's dropped events. */
const WARN_EVERY_MS = 60_000;

/** True for an `@EventPattern` handler (no reply: a rejected event cannot be answered). */
export function isEventHandler(handler: FunctionLike): boolean {
  return Reflect.getMetadata(HANDLER_TYPE_METADATA, handler) === EVENT_HANDLER;
}

/**
 * Logs the events `@RateLimit` drops: the first at once, then at most one warning per handler
 * a minute, with the number dropped since, so that a flood of events is not also a flood of logs.
 */
export class DroppedEventLog {
  private readonly handlers = new WeakMap<FunctionLike, { lastAt: number; since: number }>();

  constructor(private readonly logger: RateSyncLogger) {}

  /** Counts one dropped event of `handler` (named `where`), and warns when due. */
  dropped(
    handler: FunctionLike,
    where: string,
    subject: RateLimitResult | StoreUnavailableError,
    now: number,
  ): void {
    const state = this.handlers.get(handler) ?? { lastAt: -Infinity, since: 0 };
    this.handlers.set(handler, state);
    state.since++;
    if (now - state.lastAt < WARN_EVERY_MS) return;
    const why =
      subject instanceof StoreUnavailableError
        ? subject.message
        : `limit '${subject.limiterId}' reached`;
    this.logger.warn(
      `@RateLimit on ${where}: dropped ${state.since} event(s) (${why}); ` +
        `give the decorator a timeout to wait for a slot instead`,
    );
    state.lastAt = now;
    state.since = 0;
  }
}
