import { ManualClock } from './clock';
import { MemoryEngine } from './engines/memory';
import { RateSync } from './rate-sync';
import { PROBE_INTERVAL_MS } from './store-probe';

/** A memory engine whose ping can fail or hang, counting the pings. */
class ProbedEngine extends MemoryEngine {
  mode: 'up' | 'down' | 'hung' = 'up';
  pings = 0;
  override ping(): Promise<void> {
    this.pings++;
    if (this.mode === 'down') return Promise.reject(new Error('connect ECONNREFUSED'));
    if (this.mode === 'hung') return new Promise(() => undefined);
    return Promise.resolve();
  }
}

describe('health()', () => {
  const setup = (socketTimeout?: number) => {
    const manual = new ManualClock();
    /** The manual clock, plus a step that a test may set (a wall clock set back). */
    const clock = Object.assign(manual, { step: 0 });
    const now = manual.now.bind(manual);
    manual.now = () => now() + clock.step;
    const engine = new ProbedEngine({ clock });
    const rs = new RateSync(
      {
        stores: { s: { engine: 'memory', socketTimeout } },
        limiters: { api: { store: 's', ratePerSecond: 1 } },
      },
      { clock, createEngine: () => engine },
    );
    return { rs, engine, clock };
  };

  it('sees an idle store go down and come back, with no decision traffic', async () => {
    const { rs, engine, clock } = setup();
    expect(await rs.health()).toEqual([
      { store: 's', engine: 'memory', up: true, breaker: 'closed' },
    ]);
    engine.mode = 'down';
    await clock.advance(PROBE_INTERVAL_MS);
    expect(await rs.health()).toEqual([
      {
        store: 's',
        engine: 'memory',
        up: false,
        breaker: 'closed', // a probe does not open the breaker: decisions do
        error: 'connect ECONNREFUSED',
      },
    ]);
    engine.mode = 'up';
    await clock.advance(PROBE_INTERVAL_MS);
    expect((await rs.health())[0].up).toBe(true);
  });

  it('probes at most once per interval; concurrent calls share the probe in flight', async () => {
    const { rs, engine, clock } = setup();
    await Promise.all([rs.health(), rs.health(), rs.health()]);
    expect(engine.pings).toBe(1);
    for (let i = 0; i < 10; i++) {
      await clock.advance(PROBE_INTERVAL_MS / 10 - 1);
      await rs.health();
    }
    expect(engine.pings).toBe(1);
    await clock.advance(10);
    await rs.health();
    expect(engine.pings).toBe(2);
  });

  it('a store that does not answer is down after the probe timeout (socket_timeout if shorter)', async () => {
    const { rs, engine, clock } = setup(0.2);
    engine.mode = 'hung';
    let answer: unknown;
    const pending = rs.health().then((h) => (answer = h[0]));
    await clock.advance(199);
    expect(answer).toBeUndefined();
    await clock.advance(1);
    await pending;
    expect(answer).toMatchObject({ up: false, error: 'no answer within 200 ms' });
  });

  it('a clock stepped back does not keep an old answer', async () => {
    const { rs, engine, clock } = setup();
    await rs.health();
    engine.mode = 'down';
    await clock.advance(PROBE_INTERVAL_MS);
    expect((await rs.health())[0].up).toBe(false);
    engine.mode = 'up';
    clock.step = -3_600_000;
    expect((await rs.health())[0].up).toBe(true);
  });
});
