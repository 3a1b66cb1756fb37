/** Query parameters whose values are credentials (`?password=...` is valid in postgres URLs). */
const SECRET_PARAMS = /([?&](?:password|passwd|pwd|pass|secret|token|auth|sslpassword)=)[^&#]*/gi;

/**
 * Returns `url` with its credentials replaced by `***`, for logs, errors and listings.
 *
 * The whole user-info part is hidden (`redis://user:secret@host` becomes `redis://***@host`),
 * because some providers put the secret in the user name. Credential-like query parameters
 * (`password`, `token`, ...) are hidden too. Works on malformed URLs as well: everything before
 * the last `@` is hidden, so an unencoded `@`, `/`, `?` or `#` in a password never leaks (an
 * `@` in a path or query, which is rare, hides a little more than needed).
 *
 * @example redactUrl('redis://:s3cret@cache:6379/0') // 'redis://***@cache:6379/0'
 */
export function redactUrl(url: string): string {
  const schemeEnd = url.indexOf('://');
  const start = schemeEnd >= 0 ? schemeEnd + 3 : 0;
  const rest = url.slice(start);
  const at = rest.lastIndexOf('@');
  const hidden = at >= 0 ? `***${rest.slice(at)}` : rest;
  return (url.slice(0, start) + hidden).replace(SECRET_PARAMS, '$1***');
}

/**
 * The secret parts of a URL, for scrubbing messages (longest first; parts shorter than 3
 * characters are left out, as replacing them would mangle ordinary words). The password,
 * decoded and as written; and, for a URL whose credentials hold a reserved character (`/`,
 * `?`, `#`), every piece of the text before its last `@`, because a driver may have read one
 * of those pieces as the host and may name it in an error (`getaddrinfo ENOTFOUND <piece>`).
 */
export function urlSecrets(url: string): string[] {
  const schemeEnd = url.indexOf('://');
  const rest = url.slice(schemeEnd >= 0 ? schemeEnd + 3 : 0);
  const at = rest.lastIndexOf('@');
  if (at < 0) return [];
  const credentials = rest.slice(0, at);
  const secrets = new Set<string>();
  const colon = credentials.indexOf(':');
  // A user name alone (`postgres://postgres@db/app`) is not scrubbed from messages: it is
  // often an ordinary word; a URL shown is redacted whole by redactUrl anyway.
  if (colon >= 0) {
    const password = credentials.slice(colon + 1);
    secrets.add(password);
    try {
      secrets.add(decodeURIComponent(password));
    } catch {
      // A malformed %-escape: the raw form is scrubbed.
    }
  }
  if (/[/?#]/.test(credentials)) {
    for (const piece of credentials.split(/[:@/?#]/)) secrets.add(piece);
  }
  return [...secrets].filter((s) => s.length >= 3).sort((a, b) => b.length - a.length);
}

/**
 * `message` with `url` shown redacted (see {@link redactUrl}) and every secret part of it
 * (see {@link urlSecrets}) replaced by `***`: for driver messages, which may quote the URL, its
 * password, or a piece of a malformed URL's credentials read as a host name.
 */
export function scrubUrlSecrets(message: string, url: string | undefined): string {
  if (!url) return message;
  let out = message.split(url).join(redactUrl(url));
  for (const secret of urlSecrets(url)) out = out.split(secret).join('***');
  return out;
}
