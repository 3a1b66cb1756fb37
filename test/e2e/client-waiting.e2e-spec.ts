import { Controller, Get, Injectable } from '@nestjs/common';
import http from 'node:http';
import request from 'supertest';
import { ReleaseWaiters, Waiter } from '../../lib/core/release-waiters';
import { LimiterService, RateLimit, RateSyncModule } from '../../lib/nest';
import { RequestPermit } from '../../lib/nest/http/request-permit';
import { describePg, dropSchema, PG_URL, uniqueName } from '../support/postgres';
import { describeRedis, redisUrl, uniquePrefix } from '../support/redis';
import { ADAPTERS, createApp, eventually, type TestApp } from './support/create-app';
import { Gate } from './support/gate';

/** Counts handler runs, and the most that ran at once. */
@Injectable()
class Runs {
  now = 0;
  peak = 0;
  total = 0;
  enter(): void {
    this.total++;
    this.peak = Math.max(this.peak, ++this.now);
  }
  leave(): void {
    this.now--;
  }
}

@Controller('w')
class WaitingController {
  constructor(
    private readonly gate: Gate,
    private readonly runs: Runs,
  ) {}

  /** One slot; holds it until the gate opens. */
  @Get('slow')
  @RateLimit('slot')
  async slow(): Promise<string> {
    this.runs.enter();
    try {
      await this.gate.pass();
      return 'slow';
    } finally {
      this.runs.leave();
    }
  }

  /** The same slot, and the request may wait for it up to 10 s. */
  @Get('patient')
  @RateLimit('slot', { timeout: 10 })
  patient(): string {
    this.runs.enter();
    this.runs.leave();
    return 'patient';
  }

  /** 1/s with a limiter `timeout` of 30 s that a request must not wait on. */
  @Get('paced')
  @RateLimit('paced')
  paced(): string {
    return 'paced';
  }

  /** One per 2 s, one bucket for every caller, and a request may wait up to 10 s. */
  @Get('rated')
  @RateLimit('slow_rate', { timeout: 10, key: false })
  rated(): string {
    return 'rated';
  }

  /** 20/s, and this route's requests may wait up to 5 s. */
  @Get('queued')
  @RateLimit('quick', { timeout: 5 })
  queued(): string {
    return 'queued';
  }
}

type Engine = 'memory' | 'redis' | 'postgres';

function stores(engine: Engine, name: string): Record<string, Record<string, unknown>> {
  if (engine === 'memory') return { s: { engine: 'memory' } };
  if (engine === 'redis') return { s: { engine: 'redis', url: redisUrl(), keyPrefix: name } };
  return { s: { engine: 'postgres', url: PG_URL, schemaName: name } };
}

/** Starts a GET that the test aborts; resolves once its handler entered or it was answered. */
function startAborted(url: string): { req: http.ClientRequest; answered: Promise<number> } {
  const req = http.get(url);
  req.on('error', () => undefined);
  const answered = new Promise<number>((resolve) => {
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
  });
  return { req, answered };
}

function suite(engine: Engine): void {
  describe.each(ADAPTERS)('%s', (adapter) => {
    let t: TestApp;
    let name: string;

    beforeEach(async () => {
      name = engine === 'postgres' ? uniqueName('rs_wait') : uniquePrefix('wait');
      t = await createApp(adapter, {
        imports: [
          RateSyncModule.forRoot({
            configFile: false,
            stores: stores(engine, name),
            limiters: {
              slot: { store: 's', maxConcurrent: 1 },
              paced: { store: 's', ratePerSecond: 1, timeout: 30 },
              quick: { store: 's', ratePerSecond: 20 },
              slow_rate: { store: 's', ratePerSecond: 0.5 },
            },
          }),
        ],
        controllers: [WaitingController],
        providers: [Gate, Runs],
      });
    });
    afterEach(async () => {
      t.app.get(Gate).open();
      await t.close();
      if (engine === 'postgres') await dropSchema(name);
    });

    it("answers at once instead of queueing a request on the limiter's timeout", async () => {
      const statuses = await Promise.all([1, 2, 3].map(() => request(t.url).get('/w/paced'))).then(
        (rs) => rs.map((r) => [r.status, r.headers['retry-after']]),
      );
      expect(statuses.map(([s]) => s).sort()).toEqual([200, 429, 429]);
      for (const [status, retryAfter] of statuses) {
        if (status === 429) expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
      }
    });

    it("waits for its slot when the route's own timeout allows", async () => {
      const statuses = await Promise.all([1, 2, 3].map(() => request(t.url).get('/w/queued')));
      expect(statuses.map((r) => r.status)).toEqual([200, 200, 200]);
    });

    it('clients that disconnect do not lift max_concurrent: one handler at a time', async () => {
      const gate = t.app.get(Gate);
      const runs = t.app.get(Runs);
      const done = jest.spyOn(RequestPermit.prototype, 'responseDone');
      try {
        for (let i = 0; i < 8; i++) {
          const hit = startAborted(`${t.url}/w/slow`);
          const entered = gate.whenEntered(i + 1).then(() => 0);
          const status = await Promise.race([entered, hit.answered]);
          hit.req.destroy();
          if (status === 0) await eventually(() => done.mock.calls.length >= 1);
        }
        expect(runs.total).toBe(1);
        expect(runs.peak).toBe(1);
        // The first handler still runs for its gone client, so the slot is still taken.
        await request(t.url).get('/w/slow').expect(429);
        gate.open();
        await eventually(() => runs.now === 0);
        await eventually(async () => (await request(t.url).get('/w/patient')).status === 200);
      } finally {
        done.mockRestore();
      }
    });

    it('a client that disconnects while waiting for a reserved rate slot gives it back', async () => {
      const service = t.app.get(LimiterService);
      await request(t.url).get('/w/rated').expect(200);
      const first = (await service.state('slow_rate')).resetAt;
      const waiting = startAborted(`${t.url}/w/rated`);
      // Its reservation moves the bucket's next free slot 2 s further.
      await eventually(async () => (await service.state('slow_rate')).resetAt >= first + 1999);
      waiting.req.destroy();
      // Given back: the bucket is where the first request left it, so the next caller waits
      // for the first slot, not behind the gone client. (Time alone never moves it back.)
      await eventually(async () => (await service.state('slow_rate')).resetAt <= first + 1);
      expect(await Promise.race([waiting.answered, Promise.resolve('none')])).toBe('none');
    });

    it('a client that disconnects while waiting for a slot never runs its handler', async () => {
      const gate = t.app.get(Gate);
      const runs = t.app.get(Runs);
      const join = jest.spyOn(ReleaseWaiters.prototype, 'join');
      const wake = jest.spyOn(Waiter.prototype, 'wake');
      try {
        const holder = request(t.url)
          .get('/w/slow')
          .then((r) => r.status);
        await gate.whenEntered(1);
        const waiting = startAborted(`${t.url}/w/patient`);
        await eventually(() => join.mock.calls.length >= 1); // it queues for the slot
        waiting.req.destroy();
        await eventually(() => wake.mock.calls.length >= 1); // the server saw it leave
        gate.open();
        expect(await holder).toBe(200);
        const service = t.app.get(LimiterService);
        await eventually(async () => (await service.state('slot')).inFlight === 0);
        expect(runs.total).toBe(1); // only the holder ran
        await request(t.url).get('/w/patient').expect(200);
      } finally {
        join.mockRestore();
        wake.mockRestore();
      }
    });
  });
}

describe('waiting and disconnecting clients (memory)', () => suite('memory'));
describeRedis('waiting and disconnecting clients (redis)', () => suite('redis'));
describePg('waiting and disconnecting clients (postgres)', () => suite('postgres'));
