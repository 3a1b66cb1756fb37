import { ManualClock } from './clock';
import type { Engine } from './engines/engine';
import { FleetHeartbeat } from './fleet-heartbeat';
import { RateLimitedLog } from './logger';

const quiet = { log() {}, warn() {}, error() {} };

function heartbeatOf(counts: (number | Error)[], clock: ManualClock) {
  const engine = {
    heartbeat: jest.fn(async () => {
      const next = counts.shift();
      if (next instanceof Error) throw next;
      return next ?? 1;
    }),
    leaveFleet: jest.fn(async () => undefined),
  } as unknown as Engine;
  const options = { engine: 'redis' as const, heartbeatInterval: 5 };
  return {
    engine,
    beat: new FleetHeartbeat('s', engine, options, clock, new RateLimitedLog(quiet)),
  };
}

describe('FleetHeartbeat', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'] }));
  afterEach(() => jest.useRealTimers());

  it('the fleet is the largest count of the three intervals before the last heartbeat', async () => {
    const clock = new ManualClock();
    // 4 alive, then the store restarts empty and the others have not beaten again yet.
    const { beat } = heartbeatOf([4, 4, 1, 2, new Error('down'), new Error('down')], clock);
    expect(beat.fleet).toEqual({ size: 1, source: 'fallback' });
    beat.start();
    for (let i = 0; i < 3; i++) {
      await jest.advanceTimersByTimeAsync(5000);
      await clock.advance(5000);
    }
    expect(beat.fleet).toEqual({ size: 4, source: 'heartbeat' }); // counts 4, 4, 1, 2
    for (let i = 0; i < 2; i++) {
      await jest.advanceTimersByTimeAsync(5000);
      await clock.advance(5000);
    }
    // The store is down: the last counts are kept (4 was 15 s before the last heartbeat, 2).
    expect(beat.fleet).toEqual({ size: 4, source: 'heartbeat' });
    await beat.stop();
  });

  it('forgets counts older than three intervals before the last heartbeat', async () => {
    const clock = new ManualClock();
    const { beat } = heartbeatOf([6, 2, 2, 2, 2], clock);
    beat.start();
    for (let i = 0; i < 4; i++) {
      await clock.advance(5000);
      await jest.advanceTimersByTimeAsync(5000);
    }
    expect(beat.fleet).toEqual({ size: 2, source: 'heartbeat' });
    await beat.stop();
  });

  it('fleet_size configured: no heartbeat at all', async () => {
    const clock = new ManualClock();
    const engine = { heartbeat: jest.fn() } as unknown as Engine;
    const options = { engine: 'redis' as const, fleetSize: 3 };
    const beat = new FleetHeartbeat('s', engine, options, clock, new RateLimitedLog(quiet));
    beat.start();
    await jest.advanceTimersByTimeAsync(60_000);
    expect(engine.heartbeat).not.toHaveBeenCalled();
    expect(beat.fleet).toEqual({ size: 3, source: 'configured' });
  });
});
