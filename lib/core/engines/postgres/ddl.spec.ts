import { functionDefs } from './ddl';
import { postgresNames } from './identifiers';

describe('functionDefs', () => {
  const defs = functionDefs(postgresNames());

  it("gives each function's SET clauses as pg_proc.proconfig holds them", () => {
    expect(Object.fromEntries(defs.map((d) => [d.role, d.settings]))).toEqual({
      acquire: [],
      batch: ['enable_seqscan=off', 'plan_cache_mode=force_generic_plan'],
      release: [],
      renew: [],
      block: [],
    });
  });

  it('writes exactly those SET clauses into each CREATE FUNCTION, before the body', () => {
    for (const d of defs) {
      const head = d.create.slice(0, d.create.indexOf('$rate_sync$'));
      const written = [...head.matchAll(/\bSET (\w+) = (\w+)/g)].map(([, k, v]) => `${k}=${v}`);
      expect(written.sort()).toEqual([...d.settings]);
    }
  });
});
