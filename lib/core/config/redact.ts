/** Query parameters whose values are credentials (`?password=...` is valid in postgres URLs). */
const SECRET_PARAMS = /([?&](?:password|passwd|pwd|pass|secret|token|auth|sslpassword)=)[^&#]*/gi;

/**
 * Returns `url` with its credentials replaced by `***`, for logs, errors and listings.
 *
 * The whole user-info part is hidden (`redis://user:secret@host` becomes `redis://***@host`),
 * because some providers put the secret in the user name. Credential-like query parameters
 * (`password`, `token`, ...) are hidden too. Works on malformed URLs as well: everything before
 * the last `@` of the authority is hidden, so an unencoded `@` or `/` in a password never leaks.
 *
 * @example redactUrl('redis://:s3cret@cache:6379/0') // 'redis://***@cache:6379/0'
 */
export function redactUrl(url: string): string {
  const schemeEnd = url.indexOf('://');
  const start = schemeEnd >= 0 ? schemeEnd + 3 : 0;
  const rest = url.slice(start);
  const queryAt = rest.search(/[?#]/);
  const beforeQuery = queryAt >= 0 ? rest.slice(0, queryAt) : rest;
  const at = beforeQuery.lastIndexOf('@');
  const hidden = at >= 0 ? `***${rest.slice(at)}` : rest;
  return (url.slice(0, start) + hidden).replace(SECRET_PARAMS, '$1***');
}
