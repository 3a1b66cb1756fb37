import type { ExecutionContext, Type } from '@nestjs/common';
import type { FunctionLike } from '../function-like';

// Derived from ExecutionContext rather than imported from '@nestjs/common/interfaces': Nest 12's
// package "exports" do not resolve that deep path, so the published .d.ts would not compile there.
type HttpArgumentsHost = ReturnType<ExecutionContext['switchToHttp']>;
type RpcArgumentsHost = ReturnType<ExecutionContext['switchToRpc']>;
type WsArgumentsHost = ReturnType<ExecutionContext['switchToWs']>;

/** The `getType()` of the context a key function receives on a provider method. */
export const METHOD_CONTEXT_TYPE = 'rate-sync-method';

/**
 * The execution context handed to a key function on a provider method: `getArgs()` are the
 * method's arguments, `getClass()` / `getHandler()` the class and the original method, and
 * `getType()` is {@link METHOD_CONTEXT_TYPE}.
 */
export class MethodExecutionContext implements ExecutionContext {
  constructor(
    private readonly args: unknown[],
    private readonly cls: Type,
    private readonly handler: FunctionLike,
  ) {}

  getClass<T = unknown>(): Type<T> {
    return this.cls as Type<T>;
  }

  getHandler(): FunctionLike {
    return this.handler;
  }

  getArgs<T extends unknown[] = unknown[]>(): T {
    return this.args as T;
  }

  getArgByIndex<T = unknown>(index: number): T {
    return this.args[index] as T;
  }

  getType<T extends string = string>(): T {
    return METHOD_CONTEXT_TYPE as T;
  }

  switchToHttp(): HttpArgumentsHost {
    return {
      getRequest: <T>() => this.args[0] as T,
      getResponse: <T>() => this.args[1] as T,
      getNext: <T>() => this.args[2] as T,
    };
  }

  switchToRpc(): RpcArgumentsHost {
    return { getData: <T>() => this.args[0] as T, getContext: <T>() => this.args[1] as T };
  }

  switchToWs(): WsArgumentsHost {
    return {
      getClient: <T>() => this.args[0] as T,
      getData: <T>() => this.args[1] as T,
      getPattern: () => '',
    };
  }
}
