/**
 * Requires an optional peer package, or returns undefined when it is not installed. Any other
 * failure (the package is there but throws while loading) propagates.
 */
export function requireOptional<T>(name: string): T | undefined {
  try {
    return require(name) as T;
  } catch (err) {
    const code = (err as { code?: string }).code;
    const missing = code === 'MODULE_NOT_FOUND' && String((err as Error).message).includes(name);
    if (missing) return undefined;
    throw err;
  }
}
