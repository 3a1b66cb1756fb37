import { Logger, type ExecutionContext } from '@nestjs/common';

/**
 * Decides whether a call is let through without being limited: it consumes nothing and its
 * response carries no rate-limit header. May return a Promise. A function that throws (or
 * rejects) does not skip: the call is limited, and a warning is logged once per handler.
 */
export type SkipFunction = (context: ExecutionContext) => boolean | Promise<boolean>;

/**
 * A `skip` option (the module's or a `@RateLimit`'s) bound to where it was given, so that a
 * failing function is reported once per handler, never turned into an error response.
 */
export class SkipRule {
  private readonly warned = new WeakSet<object>();

  constructor(
    private readonly skip: SkipFunction,
    /** Where the option was given, for the warning (`RateSyncModule's skip option`). */
    private readonly origin: string,
    private readonly logger: Pick<Logger, 'warn'> = new Logger('RateSync'),
  ) {}

  /** True to skip; a Promise only when the function returned one. */
  test(context: ExecutionContext): boolean | Promise<boolean> {
    let verdict: unknown;
    try {
      verdict = this.skip(context);
    } catch (err) {
      return this.failed(context, err);
    }
    if (typeof (verdict as PromiseLike<unknown> | undefined)?.then !== 'function') {
      return Boolean(verdict);
    }
    return Promise.resolve(verdict).then(Boolean, (err: unknown) => this.failed(context, err));
  }

  private failed(context: ExecutionContext, err: unknown): false {
    const handler = context.getHandler();
    if (!this.warned.has(handler)) {
      this.warned.add(handler);
      const where = `${context.getClass().name}.${handler.name}`;
      const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      this.logger.warn(
        `${this.origin} threw on ${where} (${reason}); the call is limited as if it returned ` +
          `false (this warning is shown once per handler)`,
      );
    }
    return false;
  }
}

/**
 * Whether any of the rules skips the call, the module's first: a boolean when every function
 * answered synchronously, else a Promise.
 */
export function anyRuleSkips(
  rules: readonly (SkipRule | undefined)[],
  context: ExecutionContext,
): boolean | Promise<boolean> {
  for (let i = 0; i < rules.length; i++) {
    const verdict = rules[i]?.test(context);
    if (verdict === true) return true;
    if (verdict instanceof Promise) {
      return verdict.then((skip) => skip || anyRuleSkips(rules.slice(i + 1), context));
    }
  }
  return false;
}
