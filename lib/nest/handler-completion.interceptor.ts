import {
  HttpException,
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { finalize, tap, type Observable } from 'rxjs';
import { requestPermit } from './http/request-permit';

/** Nginx's status for a request whose client closed the connection; nobody receives it. */
const CLIENT_CLOSED_REQUEST = 499;

/**
 * Tells a request's permit when its handler's work is over (and what it threw), so that the
 * concurrency slot is held for as long as the handler runs, whatever the client does, and
 * `refundWhen` sees the handler's error. Bound at bootstrap to the routes whose `@RateLimit`
 * holds concurrency slots or has `refundWhen` (see `HandlerCompletionBinder`). Internal.
 */
@Injectable()
export class HandlerCompletionInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const held = requestPermit(context.switchToHttp().getRequest<object>());
    if (!held) return next.handle();
    if (!held.start()) {
      throw new HttpException('Client Closed Request', CLIENT_CLOSED_REQUEST);
    }
    return next.handle().pipe(
      tap({ error: (err: unknown) => held.failed(err) }),
      finalize(() => held.finish()),
    );
  }
}
