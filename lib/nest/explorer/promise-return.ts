import type { Type } from '@nestjs/common';
import { RateSyncError } from '../../core';
import type { FunctionLike } from '../function-like';

/** What TypeScript's `emitDecoratorMetadata` records as a decorated method's return type. */
const RETURN_TYPE_METADATA = 'design:returntype';

/**
 * Fails the boot unless `cls.prototype[name]` is known to return a Promise: a native `async`
 * function, or a method whose recorded return type is `Promise` (or a subclass).
 *
 * Why: a limited method returns a Promise whatever it declares (the call waits for, or is
 * refused, a slot before the method runs). Callers of a method declared `number`, `void` or
 * `Observable<T>` do not await it, so a refusal would be an unhandled rejection, which ends the
 * Node process. Without the metadata (plain JavaScript, a compiler that does not emit it) only
 * `async` proves that callers expect a Promise.
 *
 * @throws RateSyncError naming the method, what it declares, and the fix
 */
export function assertReturnsPromise(cls: Type, name: string, method: FunctionLike): void {
  if (returnsPromise(cls.prototype as object, name, method)) return;
  const recorded = Reflect.hasMetadata(RETURN_TYPE_METADATA, cls.prototype, name);
  const type: unknown = Reflect.getMetadata(RETURN_TYPE_METADATA, cls.prototype, name);
  const declared = !recorded
    ? 'is not async and has no return type metadata (emitDecoratorMetadata), so nothing shows that its callers await it'
    : `is declared to return ${typeof type === 'function' ? type.name : 'void'}${type === undefined ? ' (or has no return type)' : ''}`;
  throw new RateSyncError(
    `@RateLimit on ${cls.name}.${name}: the method ${declared}, yet a limited method returns a ` +
      `Promise (the call waits for, or is refused, a slot before the method runs), and a ` +
      `refusal nobody awaits would end the process as an unhandled rejection. ` +
      `Declare it async (returning Promise<T>) and await its calls.`,
  );
}

/**
 * True when `proto[name]` is known to return a Promise: a native `async` function, or a method
 * whose recorded return type (`emitDecoratorMetadata`) is `Promise` or a subclass.
 */
export function returnsPromise(
  proto: object,
  name: string | symbol,
  method: FunctionLike,
): boolean {
  if (isAsyncFunction(method)) return true;
  const type: unknown = Reflect.getMetadata(RETURN_TYPE_METADATA, proto, name);
  return typeof type === 'function' && (type === Promise || type.prototype instanceof Promise);
}

function isAsyncFunction(method: FunctionLike): boolean {
  return (method as { [Symbol.toStringTag]?: string })[Symbol.toStringTag] === 'AsyncFunction';
}
