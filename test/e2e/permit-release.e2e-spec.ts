import { Controller, Get, Injectable, StreamableFile } from '@nestjs/common';
import http from 'node:http';
import { PassThrough } from 'node:stream';
import request from 'supertest';
import { Permit } from '../../lib/core';
import { LimiterService, RateLimit, RateSyncModule } from '../../lib/nest';
import { RequestPermit } from '../../lib/nest/http/request-permit';
import { ADAPTERS, createApp, eventually, type TestApp } from './support/create-app';
import { Gate } from './support/gate';

/** The streams handed out by the streaming route, newest last. */
@Injectable()
class Streams {
  readonly all: PassThrough[] = [];
  next(): PassThrough {
    const stream = new PassThrough();
    this.all.push(stream);
    return stream;
  }
}

@Controller('slots')
class SlotsController {
  constructor(
    private readonly gate: Gate,
    private readonly streams: Streams,
  ) {}

  @Get('quick')
  @RateLimit('one_slot')
  quick(): string {
    return 'done';
  }

  @Get('boom')
  @RateLimit('one_slot')
  boom(): never {
    throw new Error('handler failed');
  }

  @Get('held')
  @RateLimit('one_slot')
  async held(): Promise<string> {
    await this.gate.pass();
    return 'late';
  }

  @Get('stream')
  @RateLimit('one_slot')
  stream(): StreamableFile {
    return new StreamableFile(this.streams.next());
  }

  @Get('pair')
  @RateLimit('two_slots')
  async pair(): Promise<string> {
    await this.gate.pass();
    return 'paired';
  }
}

describe.each(ADAPTERS)('permit release (%s)', (adapter) => {
  let t: TestApp;
  let service: LimiterService;
  let release: jest.SpyInstance;
  const inFlight = async (id = 'one_slot'): Promise<number | undefined> =>
    (await service.state(id, '127.0.0.1')).inFlight;

  beforeEach(async () => {
    release = jest.spyOn(Permit.prototype, 'release');
    t = await createApp(adapter, {
      imports: [
        RateSyncModule.forRoot({
          configFile: false,
          stores: { mem: { engine: 'memory' } },
          limiters: {
            one_slot: { store: 'mem', maxConcurrent: 1 },
            two_slots: { store: 'mem', maxConcurrent: 2, timeout: 0 },
          },
        }),
      ],
      controllers: [SlotsController],
      providers: [Gate, Streams],
    });
    service = t.app.get(LimiterService);
  });
  afterEach(async () => {
    t.app.get(Gate).open();
    await t.close();
    release.mockRestore();
  });

  it('releases once after a successful response', async () => {
    await request(t.url).get('/slots/quick').expect(200);
    await eventually(async () => (await inFlight()) === 0);
    await request(t.url).get('/slots/quick').expect(200);
    await eventually(() => service.metrics('one_slot').released === 2);
    expect(release).toHaveBeenCalledTimes(2);
  });

  it('releases once when the handler throws', async () => {
    await request(t.url).get('/slots/boom').expect(500);
    await eventually(async () => (await inFlight()) === 0);
    await request(t.url).get('/slots/quick').expect(200);
    await eventually(() => release.mock.calls.length === 2);
    expect(service.metrics('one_slot').released).toBe(2);
  });

  it('holds the slot while an aborted request still runs its handler, then releases once', async () => {
    const gate = t.app.get(Gate);
    const responseDone = jest.spyOn(RequestPermit.prototype, 'responseDone');
    const aborted = http.get(`${t.url}/slots/held`);
    aborted.on('error', () => undefined);
    await gate.whenEntered(1);
    aborted.destroy();
    await eventually(() => responseDone.mock.calls.length === 1); // the server saw the abort
    // The handler still runs: its slot is still taken.
    expect(await inFlight()).toBe(1);
    await request(t.url).get('/slots/quick').expect(429);
    gate.open(); // the aborted handler finishes now, and frees its slot
    await eventually(() => gate.left === 1);
    await eventually(async () => (await inFlight()) === 0);
    await request(t.url).get('/slots/quick').expect(200);
    await eventually(() => release.mock.calls.length === 2);
    expect(service.metrics('one_slot').released).toBe(2);
    responseDone.mockRestore();
  });

  it('holds the slot until a streamed response ends', async () => {
    const streams = t.app.get(Streams);
    const body: string[] = [];
    const ended = new Promise<number>((resolve, reject) => {
      http
        .get(`${t.url}/slots/stream`, (res) => {
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => body.push(chunk));
          res.on('end', () => resolve(res.statusCode ?? 0));
        })
        .on('error', reject);
    });
    await eventually(() => streams.all.length === 1);
    streams.all[0].write('first ');
    await eventually(() => body.length > 0);
    await request(t.url).get('/slots/quick').expect(429);
    expect(await inFlight()).toBe(1);
    streams.all[0].end('last');
    expect(await ended).toBe(200);
    expect(body.join('')).toBe('first last');
    await eventually(async () => (await inFlight()) === 0);
    await request(t.url).get('/slots/quick').expect(200);
    expect(service.metrics('one_slot').released).toBe(2);
  });

  it('max_concurrent = 2, timeout 0: exactly one 429 out of 3 simultaneous requests', async () => {
    const gate = t.app.get(Gate);
    const statuses: number[] = [];
    const requests = [1, 2, 3].map(() =>
      request(t.url)
        .get('/slots/pair')
        .then((res) => statuses.push(res.status)),
    );
    await gate.whenEntered(2);
    await eventually(() => statuses.length === 1);
    expect(statuses).toEqual([429]);
    gate.open();
    await Promise.all(requests);
    expect(statuses.sort()).toEqual([200, 200, 429]);
    await eventually(async () => (await inFlight('two_slots')) === 0);
    expect(service.metrics('two_slots').released).toBe(2);
  });
});
