/** Whether this run is CI (`CI=true` or `CI=1`): then a missing server is a failure. */
export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

/**
 * `describe` for a suite that needs a server or a tool. `missing` undefined: it is there, the
 * suite runs. Otherwise, under CI, the suite is one failing test that says what is missing and
 * `fix` (a CI run must never pass by skipping); elsewhere, so that `npm test` still works on a
 * machine without that server, the suite is skipped after a loud notice. This is the only
 * place a suite is ever skipped, and only on that condition.
 */
export function describeIfPresent(
  name: string,
  fn: () => void,
  missing: string | undefined,
  fix: string,
): void {
  if (missing === undefined) {
    describe(name, fn);
    return;
  }
  if (IN_CI) {
    describe(name, () => {
      it('finds the server or tool it needs', () => {
        throw new Error(`${missing}, and CI is set. ${fix}.`);
      });
    });
    return;
  }
  console.warn(
    `\n*** SKIPPING "${name}": ${missing}. ${fix} (CI=true makes this a failure). ***\n`,
  );
  describe.skip(name, fn);
}
