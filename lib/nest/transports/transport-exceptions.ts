import type { RateLimitRejection } from './rate-limit-rejection';

/**
 * The exception classes of `@nestjs/websockets` and `@nestjs/microservices`, loaded on first use:
 * both are optional peers, and a `ws` or `rpc` context only exists when the application has
 * loaded the package. Their exception filters recognise these classes by `instanceof`, so
 * they must be the application's own copies, not look-alikes.
 */
type ExceptionClass = new (error: object) => Error;

function exceptionClass(pkg: '@nestjs/websockets' | '@nestjs/microservices'): ExceptionClass {
  const name = pkg === '@nestjs/websockets' ? 'WsException' : 'RpcException';
  return (require(pkg) as Record<string, ExceptionClass>)[name];
}

/**
 * A `WsException` carrying `{ status: 'error', ...rejection }`: Nest's WebSocket exception
 * filter emits that object as the `exception` event.
 */
export function wsRateLimitException(rejection: RateLimitRejection): Error {
  return new (exceptionClass('@nestjs/websockets'))({ status: 'error', ...rejection });
}

/**
 * An `RpcException` carrying `{ status: 'error', ...rejection }`: Nest's microservice exception
 * filter sends that object to the client, whose `send()` observable errors with it.
 */
export function rpcRateLimitException(rejection: RateLimitRejection): Error {
  return new (exceptionClass('@nestjs/microservices'))({ status: 'error', ...rejection });
}
