import { closest, didYouMean, editDistance } from './did-you-mean';

describe('did you mean', () => {
  it('computes the edit distance', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('same', 'same')).toBe(0);
  });

  it('suggests the closest key for a typo', () => {
    const keys = ['rate_per_second', 'max_concurrent', 'timeout', 'fail_closed'];
    expect(closest('rate_per_secnd', keys)).toBe('rate_per_second');
    expect(closest('failclosed', keys)).toBe('fail_closed');
    expect(didYouMean('max_concurent', keys)).toBe('; did you mean `max_concurrent`?');
  });

  it('suggests nothing when no key is close', () => {
    expect(closest('colour', ['rate_per_second', 'timeout'])).toBeUndefined();
    expect(didYouMean('zzz', [])).toBe('');
  });
});
