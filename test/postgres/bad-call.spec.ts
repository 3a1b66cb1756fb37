import { expectBadCallAlone } from '../support/bad-call';
import { describePg, dropSchema, PG_URL, uniqueName } from '../support/postgres';

describePg('postgres: a call the store refuses for its data', () => {
  const schema = uniqueName('rs_badcall');
  afterAll(() => dropSchema(schema));

  it('max_concurrent 2^31 ("out of range for type integer") fails alone; login stays exact', async () => {
    await expectBadCallAlone(
      { engine: 'postgres', url: PG_URL, schemaName: schema },
      { maxConcurrent: 2 ** 31 },
    );
  });
});
