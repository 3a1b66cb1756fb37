import type { ServerResponse } from 'node:http';

/**
 * The Node response under a framework's response object: Express's `res` is one, Fastify's
 * reply holds it as `reply.raw`.
 */
export function rawResponse(response: unknown): ServerResponse | undefined {
  const candidate = isServerResponse(response)
    ? response
    : (response as { raw?: unknown } | undefined)?.raw;
  return isServerResponse(candidate) ? candidate : undefined;
}

/**
 * Calls `done` exactly once, when the response has finished (the last byte, streamed bodies
 * included, was handed to the OS) or the connection closed (client abort, error),
 * whichever comes first; at once if that already happened.
 */
export function whenResponseDone(response: ServerResponse, done: () => void): void {
  if (response.writableFinished || response.destroyed) {
    done();
    return;
  }
  const once = (): void => {
    response.off('finish', once);
    response.off('close', once);
    done();
  };
  response.on('finish', once);
  response.on('close', once);
}

/**
 * A signal that aborts when the connection of a response closes before the response finished
 * (the client went away). `stop()` removes the listener.
 */
export function whenClientLeaves(response: ServerResponse): { signal: AbortSignal; stop(): void } {
  const controller = new AbortController();
  const onClose = (): void => {
    if (!response.writableFinished) controller.abort();
  };
  if (response.destroyed) onClose();
  else response.once('close', onClose);
  return { signal: controller.signal, stop: () => response.off('close', onClose) };
}

function isServerResponse(value: unknown): value is ServerResponse {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ServerResponse).setHeader === 'function' &&
    typeof (value as ServerResponse).on === 'function' &&
    'writableFinished' in value
  );
}
