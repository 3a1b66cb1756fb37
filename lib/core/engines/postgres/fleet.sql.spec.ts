import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fleetStatements } from './fleet.sql';
import { postgresNames } from './identifiers';

describe('fleet heartbeat SQL', () => {
  it('is the statement docs/engines/postgres.md shows (default names)', () => {
    const doc = readFileSync(join(__dirname, '../../../../docs/engines/postgres.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## Degraded mode while PostgreSQL is down'));
    const block = /```sql\n([\s\S]*?)```/.exec(section)?.[1];
    const { heartbeat } = fleetStatements(postgresNames(undefined, undefined));
    expect(block?.trim()).toBe(heartbeat.trim());
  });

  it('only ever counts keys no limiter can have (a space after the marker)', () => {
    const { heartbeat } = fleetStatements(postgresNames('s', 't'));
    expect(heartbeat).toContain(`key > ' fleet ' AND key < ' fleet!'`);
    expect(heartbeat).toContain('"s"."t"');
  });
});
