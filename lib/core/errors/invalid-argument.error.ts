import { RateSyncError } from './rate-sync.error';

/** A call received an argument it cannot accept. The message names the argument. */
export class InvalidArgumentError extends RateSyncError {
  constructor(
    /** The argument or option at fault, e.g. `cost`. */
    readonly argument: string,
    message: string,
  ) {
    super(`${argument}: ${message}`);
    this.name = 'InvalidArgumentError';
  }
}
