import { RateSyncError } from './rate-sync.error';

/** A call received an argument it cannot accept. The message names the argument. */
export class InvalidArgumentError extends RateSyncError {
  constructor(
    readonly argument: string,
    message: string,
  ) {
    super(`${argument}: ${message}`);
    this.name = 'InvalidArgumentError';
  }
}
