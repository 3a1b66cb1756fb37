import { Catch, type ArgumentsHost } from '@nestjs/common';
import { BaseWsExceptionFilter, WsException } from '@nestjs/websockets';

/**
 * The filter docs/nestjs.md gives for the `ws` adapter, where Nest's default filter emits the
 * `exception` event on the server-side object only: it sends `{ event: 'exception', data }`.
 * Socket.IO clients (which have a `handshake`) keep Nest's default.
 */
@Catch(WsException)
export class WsExceptionMessageFilter extends BaseWsExceptionFilter {
  override catch(exception: WsException, host: ArgumentsHost): void {
    const client = host.switchToWs().getClient<{ send(data: string): void }>();
    if ('handshake' in client) return super.catch(exception, host);
    client.send(JSON.stringify({ event: 'exception', data: exception.getError() }));
  }
}
