import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');
const MARKER = '<!-- the spec test/e2e/testing-kit.e2e-spec.ts -->';

describe('docs/testing.md', () => {
  it('shows exactly the spec that runs in CI', () => {
    const doc = readFileSync(join(ROOT, 'docs/testing.md'), 'utf8');
    const after = doc.slice(doc.indexOf(MARKER) + MARKER.length);
    const block = /```ts\n([\s\S]*?)```/.exec(after)?.[1];
    const spec = readFileSync(join(ROOT, 'test/e2e/testing-kit.e2e-spec.ts'), 'utf8');
    expect(doc).toContain(MARKER);
    expect(block).toBe(spec);
  });
});
