import { escapeKeyPart, MAX_ESCAPED_PART, storageKey } from './keys';

describe('storageKey', () => {
  const hostile = [
    'a:b',
    'a',
    'a%3ab',
    '{x}',
    'a b',
    'é',
    '%',
    '#',
    '',
    'x'.repeat(10_000),
    'x'.repeat(10_001),
    '🙂',
    'a\nb',
  ];

  it('never maps two different (limiter, identifier) pairs to one key', () => {
    const seen = new Map<string, string>();
    for (const lim of ['api', 'api:x', 'a', 'a:b']) {
      for (const id of hostile) {
        const k = storageKey(lim, id);
        const pair = JSON.stringify([lim, id === '' ? undefined : id]);
        expect(seen.get(k) ?? pair).toBe(pair);
        seen.set(k, pair);
      }
    }
  });

  it('keeps keys free of braces, spaces, newlines and non-ASCII, and bounded', () => {
    for (const id of hostile) {
      const k = storageKey('limiter', id);
      expect(k).toMatch(/^[A-Za-z0-9_.\-@%#:]+$/);
      expect(k.length).toBeLessThanOrEqual(2 * MAX_ESCAPED_PART + 1);
    }
  });

  it('leaves plain identifiers readable', () => {
    expect(storageKey('login', 'user@example.com')).toBe('login:user@example.com');
    expect(escapeKeyPart('10.0.0.1')).toBe('10.0.0.1');
    expect(escapeKeyPart('::1')).toBe('%3a%3a1');
  });
});
