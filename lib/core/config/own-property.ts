/**
 * Sets `key` as an own, enumerable property, even when it is `__proto__`: ids and keys come
 * from user data, and a plain assignment of `__proto__` would replace the object's prototype
 * instead of adding an entry.
 */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}
