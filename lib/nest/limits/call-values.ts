/** Whether a value returned by user code (a key, tier or cost function) is a promise. */
export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * A short, safe description of a value returned or thrown by user code, for a warning: never
 * throws (objects without `toString` exist), never long (the value may come from a client).
 */
export function describeValue(value: unknown): string {
  let text: string;
  try {
    if (value instanceof Error) text = `${value.name}: ${String(value.message)}`;
    else if (typeof value === 'string') text = JSON.stringify(value);
    else if (value === null || typeof value !== 'object') text = String(value);
    else text = Array.isArray(value) ? 'an array' : 'an object';
  } catch {
    text = 'an unprintable value'; // a getter that throws: the warning still goes out
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
