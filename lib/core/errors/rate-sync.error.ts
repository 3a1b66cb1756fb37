/** Base class of every error this package throws. Catch it to handle all of them at once. */
export class RateSyncError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RateSyncError';
  }
}
