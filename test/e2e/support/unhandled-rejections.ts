import { runInThisContext } from 'node:vm';

/**
 * Records the process's `unhandledRejection` events until `stop()`. Jest hands each test file a
 * sandboxed `process` whose listeners never see these events, so the listener goes on the real
 * one (the main context's, reached through `vm.runInThisContext`).
 */
export function watchUnhandledRejections(): { readonly reasons: unknown[]; stop(): void } {
  const real = runInThisContext('process') as NodeJS.Process;
  const reasons: unknown[] = [];
  const listener = (reason: unknown): void => void reasons.push(reason);
  real.on('unhandledRejection', listener);
  return { reasons, stop: () => void real.off('unhandledRejection', listener) };
}

/**
 * Lets pending promise jobs run and Node report what stayed unhandled (it does so after the
 * microtask queue drains): a few turns of the event loop, no timer.
 */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
}
