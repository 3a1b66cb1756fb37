import { describePg, dropSchema, PG_URL, uniqueName } from '../support/postgres';
import { engineContract } from './engine-contract';

/** The engine contract on PostgreSQL: one schema per run, one fresh table per test. */
describePg('engine contract: postgres', () => {
  const schema = uniqueName('rs_contract');
  let n = 0;
  engineContract({
    name: 'postgres',
    store: () => ({ engine: 'postgres', url: PG_URL, schemaName: schema, tableName: `t${n++}` }),
    cleanup: () => dropSchema(schema),
  });
});
