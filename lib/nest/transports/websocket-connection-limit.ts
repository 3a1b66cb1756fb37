import type { Type } from '@nestjs/common';
import { StoreUnavailableError, type Permit, type RateSyncLogger } from '../../core';
import { MethodExecutionContext } from '../explorer/method-execution-context';
import type { FunctionLike } from '../function-like';
import type { TrustedProxies } from '../http/trusted-proxies';
import type { CompiledLimit } from '../limits/compiled-limit';
import { rateLimitRejection, type RateLimitRejection } from './rate-limit-rejection';
import { rememberUpgradeRequest, websocketKeySource } from './websocket-handshake';

type HandleConnection = (this: unknown, client: unknown, ...rest: unknown[]) => unknown;

/** A Socket.IO socket or a `ws` WebSocket, as far as this file uses them. */
interface WebSocketClient {
  readonly handshake?: unknown;
  once(event: string, listener: () => void): unknown;
  emit?(event: string, payload: unknown): unknown;
  disconnect?(close: boolean): unknown;
  send?(data: string): unknown;
  close?(code: number, reason: string): unknown;
}

/** The `ws` close code for "Try Again Later" (RFC 6455 registry). */
const TRY_AGAIN_LATER = 1013;

const wrapped = new WeakSet<FunctionLike>();

/** What the connection wrapper needs besides the gateway. */
export interface ConnectionLimitOptions {
  /** The gateway's class, for key functions and messages. */
  readonly cls: Type;
  /** The `@RateLimit` on `handleConnection`, if any. */
  readonly limit?: CompiledLimit;
  readonly proxies: TrustedProxies;
  readonly logger: RateSyncLogger;
}

/**
 * Wraps a gateway instance's `handleConnection`: it records the `ws` upgrade request (for key
 * templates on later messages) and, when `@RateLimit` is on `handleConnection`, acquires for
 * the new client before the original runs. An admitted client holds its permit (its
 * `max_concurrent` slot) until its connection closes, however it ends; a rejected one is sent
 * the rejection (Socket.IO: an `exception` event; `ws`: an `{ event: 'exception', data }`
 * message) and disconnected (`ws` close code 1013), and the original is not called.
 */
export function limitConnections(instance: object, options: ConnectionLimitOptions): void {
  const original = (instance as { handleConnection?: HandleConnection }).handleConnection;
  if (typeof original !== 'function' || wrapped.has(original)) return;
  const { cls, limit, proxies, logger } = options;
  const handleConnection: HandleConnection = function (client, ...rest) {
    rememberUpgradeRequest(client, rest[0]);
    if (!limit) return original.call(this, client, ...rest);
    const socket = client as WebSocketClient;
    let closed = false;
    let permit: Permit | undefined;
    socket.once('handshake' in socket ? 'disconnect' : 'close', () => {
      closed = true;
      void permit?.release();
    });
    const context = new MethodExecutionContext([client, ...rest], cls, original);
    return limit.run(websocketKeySource(context, client, proxies)).then(
      ({ result, permit: admitted }) => {
        if (!admitted) return refuse(socket, rateLimitRejection(result));
        if (closed) return void admitted.release();
        permit = admitted;
        return original.call(this, client, ...rest);
      },
      (err: unknown) => {
        if (err instanceof StoreUnavailableError) return refuse(socket, rateLimitRejection(err));
        logger.error(`@RateLimit on ${limit.where}: the connection was refused: ${String(err)}`);
        refuse(socket, undefined);
      },
    );
  };
  Object.defineProperty(handleConnection, 'name', { value: original.name });
  wrapped.add(handleConnection);
  Object.defineProperty(instance, 'handleConnection', {
    value: handleConnection,
    writable: true,
    configurable: true,
    enumerable: false,
  });
}

/** Tells the client why (when known), then closes its connection. */
function refuse(socket: WebSocketClient, rejection: RateLimitRejection | undefined): void {
  const data = rejection && { status: 'error', ...rejection };
  if ('handshake' in socket) {
    if (data) socket.emit?.('exception', data);
    socket.disconnect?.(true);
    return;
  }
  if (data) socket.send?.(JSON.stringify({ event: 'exception', data }));
  socket.close?.(TRY_AGAIN_LATER, data ? 'Rate limited' : 'Try again later');
}
