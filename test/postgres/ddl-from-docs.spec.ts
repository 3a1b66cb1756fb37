/**
 * docs/engines/postgres.md holds the exact DDL. This suite keeps it honest: the block must be
 * what auto_create runs, and applied by hand to a fresh schema (auto_create off) it must pass
 * the engine's schema check and the whole engine contract suite.
 *
 * After changing the SQL: `UPDATE_DOCS=1 npx jest test/postgres/ddl-from-docs.spec.ts`
 * rewrites the block.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PostgresEngine, ddlScript, postgresNames } from '../../lib/core/engines/postgres';
import { storageKey } from '../../lib/core/keys';
import { toPolicy } from '../../lib/core/policy';
import { engineContract } from '../contract/engine-contract';
import {
  PG_URL,
  ROOT,
  describePg,
  dropSchema,
  pgContext,
  uniqueName,
  withClient,
} from '../support/postgres';

const DOC = join(ROOT, 'docs/engines/postgres.md');
// Prettier puts a blank line between each comment and the fence.
const BLOCK = /(<!-- ddl:begin[^>]*-->\n+```sql\n)([\s\S]*?)(```\n+<!-- ddl:end -->)/;

function documentedDdl(): string {
  const match = BLOCK.exec(readFileSync(DOC, 'utf8'));
  if (!match) throw new Error(`${DOC}: no <!-- ddl:begin --> ... <!-- ddl:end --> block`);
  return match[2];
}

/** Runs the documented DDL with its schema renamed. */
async function applyDocumentedDdl(schema: string): Promise<void> {
  const sql = documentedDdl().split('"public"').join(`"${schema}"`);
  await withClient((c) => c.query(sql));
}

describe('the DDL in docs/engines/postgres.md', () => {
  it('is exactly what auto_create runs', () => {
    const expected = ddlScript(postgresNames(), false);
    if (process.env.UPDATE_DOCS === '1' && documentedDdl() !== expected) {
      writeFileSync(
        DOC,
        readFileSync(DOC, 'utf8').replace(
          BLOCK,
          (_m, a: string, _b, c: string) => a + expected + c,
        ),
      );
    }
    expect(documentedDdl()).toBe(expected);
  });
});

describePg('the documented DDL, applied by hand (auto_create off)', () => {
  const schemas: string[] = [];
  const fresh = async (): Promise<string> => {
    const schema = uniqueName('rs_docddl');
    schemas.push(schema);
    await applyDocumentedDdl(schema);
    return schema;
  };
  afterAll(async () => {
    for (const s of schemas.splice(0)) await dropSchema(s);
  });

  it('passes the schema check and decides', async () => {
    const schema = await fresh();
    const engine = new PostgresEngine(pgContext({ schemaName: schema, autoCreate: false }));
    await engine.connect();
    try {
      const policy = toPolicy('docs', {
        store: 's',
        algorithm: 'sliding_window',
        limit: 2,
        windowSeconds: 60,
      });
      const request = { policy, key: storageKey('docs', 'k'), cost: 1, maxWaitMs: 0 };
      const allowed = [];
      for (let i = 0; i < 3; i++) allowed.push((await engine.acquire([request]))[0].allowed);
      expect(allowed).toEqual([true, true, false]);
    } finally {
      await engine.close();
    }
  });

  describe('engine contract', () => {
    engineContract({
      name: 'postgres (documented DDL)',
      store: async () => ({
        engine: 'postgres',
        url: PG_URL,
        schemaName: await fresh(),
        autoCreate: false,
      }),
    });
  });
});
