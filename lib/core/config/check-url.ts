import type { Checked } from './coerce';
import { describeValue } from './describe-value';

/** The URL schemes each networked engine accepts. */
const URL_SCHEMES: Record<string, readonly string[]> = {
  redis: ['redis', 'rediss'],
  postgres: ['postgres', 'postgresql'],
};

/** What to do about a URL that does not parse: the usual cause is a reserved character. */
const PERCENT_ENCODE =
  'percent-encode reserved characters in the user name and password ' +
  '(@ as %40, / as %2F, ? as %3F, # as %23, % as %25, : in a user name as %3A)';

/**
 * A `url` value. Never echoed unless it parses (then with its credentials hidden): a URL that
 * does not parse may have its password anywhere. One that parses but is ambiguous (an `@` after
 * the host part, which a `/`, `?` or `#` in the password produces) is rejected too: a driver
 * would read part of the password as the host and name it in its connect errors.
 *
 * @param failWritten reports a value that came from the environment (it shows the reference)
 */
export function checkUrl(
  value: unknown,
  engine: string | undefined,
  failWritten: ((e: string) => Checked) | undefined,
): Checked {
  const schemes = (engine && URL_SCHEMES[engine]) || [
    ...URL_SCHEMES.redis,
    ...URL_SCHEMES.postgres,
  ];
  const expected = `a ${schemes.map((s) => `${s}://`).join(' or ')} URL`;
  const problem = urlProblem(value, schemes);
  if (problem === undefined) return { ok: true, value };
  if (failWritten) return failWritten(problem.hint ? `${expected} (${problem.hint})` : expected);
  return {
    ok: false,
    message: `expected ${expected}, got ${problem.shown}${problem.hint ? `; ${problem.hint}` : ''}`,
  };
}

/** Why `value` is not a usable URL of one of `schemes`, and how to show it; undefined if it is. */
function urlProblem(
  value: unknown,
  schemes: readonly string[],
): { shown: string; hint?: string } | undefined {
  if (typeof value !== 'string') return { shown: describeValue(value) };
  const hidden = 'a string that is not one (not shown: it may hold a password)';
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/[^/?#]/.exec(value)?.[1]?.toLowerCase();
  if (scheme === undefined) return { shown: hidden };
  let url: URL;
  try {
    url = new URL(value);
    decodeURIComponent(url.username);
    decodeURIComponent(url.password);
  } catch {
    return { shown: 'a URL that does not parse (not shown)', hint: PERCENT_ENCODE };
  }
  const authorityEnd = value.slice(scheme.length + 3).search(/[/?#]/);
  if (authorityEnd >= 0 && value.slice(scheme.length + 3 + authorityEnd).includes('@')) {
    return { shown: 'a URL with an @ after its host part (not shown)', hint: PERCENT_ENCODE };
  }
  return schemes.includes(scheme) ? undefined : { shown: describeValue(value, { url: true }) };
}
