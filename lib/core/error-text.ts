/**
 * One line of text for a thrown value, for logs and error messages: its `message`; when that
 * is empty (Node's `AggregateError` for a refused dual-stack connection has none), its `code`,
 * else its `name`; a value that is not an error object, as `String(value)`.
 *
 * Duck-typed rather than `instanceof Error`: errors made by Node's own modules fail that check
 * under test VMs (jest), and would print as `[object Object]`.
 */
export function errorText(err: unknown): string {
  if (typeof err !== 'object' || err === null) return String(err);
  const { message, code, name } = err as { message?: unknown; code?: unknown; name?: unknown };
  for (const text of [message, code, name]) {
    if (typeof text === 'string' && text !== '') return text;
  }
  return String(err);
}
