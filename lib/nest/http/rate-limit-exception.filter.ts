import { Catch, Inject, Injectable, Logger, type ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { RateLimitExceededError, RateSync, StoreUnavailableError } from '../../core';
import { RATE_SYNC_SETTINGS } from '../rate-sync.constants';
import type { RateSyncSettings } from '../rate-sync-settings';
import {
  RateLimitExceededException,
  type RateLimitExceededBody,
} from './rate-limit-exceeded.exception';
import { hasHeadersWritten, withoutStackFrames } from './guard-refusal';
import { responseHeaders } from './rate-limit-headers';
import {
  RateLimitUnavailableException,
  type RateLimitUnavailableBody,
} from './rate-limit-unavailable.exception';
import {
  PROBLEM_JSON,
  problemDetails,
  violatedLimiters,
  type RateLimitRefusalInfo,
} from './refusal-body';

/** What this filter answers. */
const CAUGHT = [
  RateLimitExceededException,
  RateLimitUnavailableException,
  RateLimitExceededError,
  StoreUnavailableError,
] as const;

/**
 * What {@link RateLimitExceptionFilter} answers: the HTTP exceptions of this library and the
 * core errors behind them.
 */
export type RateLimitRefusal =
  | RateLimitExceededException
  | RateLimitUnavailableException
  | RateLimitExceededError
  | StoreUnavailableError;

/**
 * Answers, over HTTP, every rate-limit refusal thrown in a request, wherever it was thrown (the
 * guard, a service, `LimiterService`, a limited provider method): a 429 for
 * `RateLimitExceededException` and the core `RateLimitExceededError`, a 503 for
 * `RateLimitUnavailableException` and `StoreUnavailableError`, each with the same header fields
 * as the guard's answers (per the module's `headers` option) and the same body (per the
 * module's `errorBody` option).
 *
 * `RateSyncModule` registers it globally. Nest picks one filter per exception, and a filter bound
 * to the route or its controller, or a global one registered after the module's (e.g. with
 * `app.useGlobalFilters`), takes precedence: such a filter can hand these exceptions over with
 * `if (rateLimitFilter.handles(exception)) return rateLimitFilter.catch(exception, host)`.
 *
 * Outside HTTP (RPC, GraphQL) it answers nothing, so the transport's own handling applies as if
 * it were not registered.
 */
@Catch(...CAUGHT)
@Injectable()
export class RateLimitExceptionFilter extends BaseExceptionFilter {
  private readonly logger = new Logger('RateSync');

  /** @internal Nest creates the filter; the parameters are the module's internals. */
  constructor(
    private readonly rateSync: RateSync,
    @Inject(RATE_SYNC_SETTINGS) private readonly settings: RateSyncSettings,
  ) {
    super();
  }

  /** True for the exceptions this filter answers. */
  handles(exception: unknown): exception is RateLimitRefusal {
    return CAUGHT.some((type) => exception instanceof type);
  }

  /** Sets the header fields and answers the 429 or 503; outside HTTP, does nothing. */
  override catch(exception: RateLimitRefusal, host: ArgumentsHost): void {
    if (host.getType() !== 'http') return;
    const answer = toHttpException(exception);
    const adapter = this.httpAdapterHost!.httpAdapter;
    // switchToHttp().getResponse(), without the closures switchToHttp allocates per call.
    const response = host.getArgByIndex<unknown>(1);
    if (adapter.isHeadersSent(response)) return super.catch(answer, host);
    // The guard's own refusals arrive with their fields already written.
    if (!hasHeadersWritten(answer)) this.setHeaders(answer, response);
    if (this.settings.errorBody === 'json') return super.catch(answer, host);
    const refusal = refusalInfo(answer);
    if (this.settings.errorBody === 'problem') {
      // Serialized here: given an object, Nest's Express adapter resets the type to JSON.
      adapter.setHeader(response, 'Content-Type', PROBLEM_JSON);
      return void adapter.reply(response, JSON.stringify(problemDetails(refusal)), refusal.status);
    }
    adapter.reply(response, this.customBody(refusal, host), refusal.status);
  }

  private setHeaders(
    answer: RateLimitExceededException | RateLimitUnavailableException,
    response: unknown,
  ): void {
    const subject = answer instanceof RateLimitExceededException ? answer.result : answer.error;
    for (const [name, value] of responseHeaders(subject, this.settings, this.rateSync)) {
      this.httpAdapterHost!.httpAdapter.setHeader(response, name, value);
    }
  }

  /** The `errorBody` function's body; this library's own when the function throws. */
  private customBody(refusal: RateLimitRefusalInfo, host: ArgumentsHost): unknown {
    const build = this.settings.errorBody as Exclude<typeof this.settings.errorBody, string>;
    try {
      return build(refusal, host);
    } catch (err) {
      this.logger.error(
        `RateSyncModule's errorBody function threw; the default body was sent instead`,
        err instanceof Error ? err.stack : String(err),
      );
      return refusal.defaultBody;
    }
  }
}

/** What the `errorBody` option is told about an answer. */
function refusalInfo(
  answer: RateLimitExceededException | RateLimitUnavailableException,
): RateLimitRefusalInfo {
  if (answer instanceof RateLimitExceededException) {
    const defaultBody = answer.getResponse() as RateLimitExceededBody;
    return {
      status: 429,
      limiterIds: violatedLimiters(answer.result),
      retryAfter: defaultBody.retryAfter,
      result: answer.result,
      defaultBody,
    };
  }
  return {
    status: 503,
    limiterIds: answer.error.limiterId ? [answer.error.limiterId] : [],
    retryAfter: answer.retryAfter,
    error: answer.error,
    defaultBody: answer.getResponse() as RateLimitUnavailableBody,
  };
}

/** The HTTP answer to a rate-limit exception or core error. */
function toHttpException(
  exception: RateLimitRefusal,
): RateLimitExceededException | RateLimitUnavailableException {
  // The core error keeps the informative stack; the HTTP exception only carries the answer.
  if (exception instanceof RateLimitExceededError) {
    return withoutStackFrames(() => new RateLimitExceededException(exception.result));
  }
  if (exception instanceof StoreUnavailableError) {
    return new RateLimitUnavailableException(exception);
  }
  return exception;
}
