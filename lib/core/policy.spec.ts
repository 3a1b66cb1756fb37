import { toPolicy } from './policy';

describe('toPolicy', () => {
  it('carries the escaped key prefix of the limiter id', () => {
    expect(toPolicy('api', { store: 's', ratePerSecond: 1 }).keyPrefix).toBe('api');
    expect(toPolicy('api:v2 x', { store: 's', ratePerSecond: 1 }).keyPrefix).toBe('api%3av2%20x');
  });

  it('carries the period: the window, the burst refill time, or none', () => {
    const window = { store: 's', algorithm: 'sliding_window' as const, limit: 5 };
    expect(toPolicy('w', { ...window, windowSeconds: 300 }).periodSeconds).toBe(300);
    expect(toPolicy('b', { store: 's', ratePerSecond: 10, burst: 20 }).periodSeconds).toBe(2);
    expect(toPolicy('h', { store: 's', ratePerSecond: 0.5 }).periodSeconds).toBe(2);
    expect(toPolicy('c', { store: 's', maxConcurrent: 3 }).periodSeconds).toBeUndefined();
  });
});
