import { BreakerOpenError, CircuitBreaker } from './circuit-breaker';
import { ManualClock } from './clock';

describe('CircuitBreaker', () => {
  it('fails fast after a failure, probes after the cool-down, closes on success', async () => {
    const clock = new ManualClock();
    const breaker = new CircuitBreaker(clock, 1000);
    let calls = 0;
    const failing = async (): Promise<never> => {
      calls++;
      throw new Error('down');
    };
    await expect(breaker.run(failing)).rejects.toThrow('down');
    await expect(breaker.run(failing)).rejects.toBeInstanceOf(BreakerOpenError);
    expect(calls).toBe(1);
    expect(breaker.state).toBe('open');
    await clock.advance(1000);
    expect(breaker.state).toBe('half-open');
    await expect(breaker.run(failing)).rejects.toThrow('down');
    expect(calls).toBe(2);
    await clock.advance(1000);
    await expect(breaker.run(async () => 'ok')).resolves.toBe('ok');
    expect(breaker.state).toBe('closed');
  });

  it('lets one probe through at a time', async () => {
    const clock = new ManualClock();
    const breaker = new CircuitBreaker(clock, 10);
    await breaker.run(async () => Promise.reject(new Error('x'))).catch(() => undefined);
    await clock.advance(10);
    let release!: () => void;
    const probe = breaker.run(() => new Promise<void>((r) => (release = r)));
    await expect(breaker.run(async () => 1)).rejects.toBeInstanceOf(BreakerOpenError);
    release();
    await probe;
    await expect(breaker.run(async () => 2)).resolves.toBe(2);
  });
});
