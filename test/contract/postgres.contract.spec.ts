import { describePg, dropSchema, PG_URL, uniqueName } from '../support/postgres';
import type { ContractTarget } from './contract-target';
import { answersContract } from './answers-contract';
import { engineContract } from './engine-contract';
import { longWaitsContract } from './long-waits-contract';
import { refundContract } from './refund-contract';
import { blockContract } from './block-contract';

/** The engine contract on PostgreSQL: one schema per run, one fresh table per test. */
describePg('engine contract: postgres', () => {
  const schema = uniqueName('rs_contract');
  let n = 0;
  const target: ContractTarget = {
    name: 'postgres',
    store: () => ({ engine: 'postgres', url: PG_URL, schemaName: schema, tableName: `t${n++}` }),
    cleanup: () => dropSchema(schema),
  };
  engineContract(target);
  answersContract(target);
  longWaitsContract(target);
  refundContract(target);
  blockContract(target);
});
