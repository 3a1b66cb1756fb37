export { PostgresEngine, CLEANUP_BATCH, CLEANUP_MAX_BATCHES } from './postgres.engine';
export {
  postgresNames,
  validateIdentifier,
  quoteIdent,
  MAX_IDENTIFIER_LENGTH,
  MAX_TABLE_NAME_LENGTH,
  DEFAULT_SCHEMA_NAME,
  DEFAULT_TABLE_NAME,
  type PostgresNames,
} from './identifiers';
export { ddlScript, EXPECTED_COLUMNS } from './ddl';
