import { functionDefs, functionSettings } from './ddl';
import { postgresNames } from './identifiers';

describe('functionSettings', () => {
  it("reads each function's SET clauses from its DDL, as pg_proc.proconfig holds them", () => {
    const settings = Object.fromEntries(
      functionDefs(postgresNames()).map((d) => [d.role, d.settings]),
    );
    expect(settings).toEqual({
      acquire: [],
      batch: ['enable_seqscan=off', 'plan_cache_mode=force_generic_plan'],
      release: [],
      renew: [],
    });
  });

  it('folds case, accepts TO, and ignores SET inside the body', () => {
    const create =
      'CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql\nSET Enable_SeqScan TO OFF set jit = on\n' +
      'AS $rate_sync$ BEGIN UPDATE t SET a = 1; END $rate_sync$';
    expect(functionSettings(create)).toEqual(['enable_seqscan=off', 'jit=on']);
  });

  it('throws on a clause it cannot read, rather than leave it out of the schema check', () => {
    const create = "CREATE FUNCTION f() SET search_path = 'a', 'b' AS $rate_sync$ $rate_sync$";
    expect(() => functionSettings(create)).toThrow(/cannot read SET search_path/);
  });
});
