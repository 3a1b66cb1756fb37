import type { Type } from '@nestjs/common';
import { RateLimitExceededError } from '../../core';
import type { CompiledLimit } from '../limits/compiled-limit';
import { MethodExecutionContext } from './method-execution-context';
import type { FunctionLike } from '../function-like';

type AnyMethod = (this: unknown, ...args: unknown[]) => unknown;

/** Functions this module produced, so that no method is wrapped twice. */
const wrapped = new WeakSet<FunctionLike>();

/**
 * Replaces `instance[name]` (an own property: the prototype and other instances are left
 * alone) with a function that acquires `limit` with keys from the arguments, calls the
 * original with the same `this` and arguments, and releases when the returned promise
 * settles (or refunds, when the declaration's `refundWhen` says so). The wrapper is async, keeps the original's name and copies its metadata.
 *
 * `mode: 'wait'` waits (decorator timeout, else the limiter's, else without bound); `'try'`
 * does not; both throw {@link RateLimitExceededError} when rejected.
 */
export function limitMethod(instance: object, name: string, cls: Type, limit: CompiledLimit): void {
  const original = (instance as Record<string, AnyMethod>)[name];
  if (typeof original !== 'function' || wrapped.has(original)) return;
  const limited = async function (this: unknown, ...args: unknown[]): Promise<unknown> {
    const context = new MethodExecutionContext(args, cls, original);
    const { result, permit } = await limit.run({ context, args, ip: () => undefined });
    if (!permit) throw new RateLimitExceededError(result);
    let value: unknown;
    try {
      value = await original.apply(this, args);
    } catch (error) {
      await limit.settle(permit, { error });
      throw error;
    }
    await limit.settle(permit, {});
    return value;
  };
  Object.defineProperty(limited, 'name', { value: original.name });
  for (const key of Reflect.getMetadataKeys(original)) {
    Reflect.defineMetadata(key, Reflect.getMetadata(key, original), limited);
  }
  wrapped.add(limited);
  Object.defineProperty(instance, name, {
    value: limited,
    writable: true,
    configurable: true,
    enumerable: false,
  });
}
