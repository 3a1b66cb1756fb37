import type { ExecutionContext } from '@nestjs/common';
import { ManualClock, RateSync, type RateSyncLogger } from '../../core';
import type { RateLimitDeclaration } from '../decorators/rate-limit-options.interface';
import type { KeySource } from '../keys/key-source';
import { compileLimit } from './compile-limit';

const rateSync = new RateSync(
  {
    stores: { s: { engine: 'memory' } },
    limiters: {
      free: { store: 's', algorithm: 'sliding_window', limit: 1, windowSeconds: 60 },
      pro: { store: 's', algorithm: 'sliding_window', limit: 5, windowSeconds: 60 },
      watched: {
        store: 's',
        algorithm: 'sliding_window',
        limit: 5,
        windowSeconds: 60,
        enforce: false,
      },
    },
  },
  { clock: new ManualClock() },
);
const logger: RateSyncLogger = { warn: jest.fn(), error: jest.fn(), log: jest.fn() };
const source = (user: string): KeySource => ({
  context: {} as ExecutionContext,
  args: [],
  request: { headers: { 'x-user': user } },
  ip: () => '127.0.0.1',
});
const compile = (declaration: RateLimitDeclaration) =>
  compileLimit(declaration, 'Test.handler', 'handler', rateSync, logger);

describe('CompiledLimit.prepare', () => {
  it('stays synchronous (no promise) for templates and key, pick and cost functions that answer at once', () => {
    const limit = compile({
      limiterIds: ['free', 'pro'],
      pick: () => 'pro',
      options: { key: () => 'alice', cost: () => 2 },
    });
    const call = limit.prepare(source('alice'));
    expect(call).not.toBeInstanceOf(Promise);
    expect(call).toEqual({ tier: 1, keys: ['alice'], cost: 2, refused: false });
    expect(
      compile({ limiterIds: ['free'], options: { key: '{headers.x-user}' } }).prepare(
        source('bob'),
      ),
    ).toEqual({
      tier: 0,
      keys: ['bob'],
      cost: undefined,
      refused: false,
    });
  });

  it('returns a promise only when a key or pick function does', async () => {
    const asyncKey = compile({ limiterIds: ['free'], options: { key: async () => 'carol' } });
    const call = asyncKey.prepare(source('carol'));
    expect(call).toBeInstanceOf(Promise);
    expect(await call).toMatchObject({ keys: ['carol'] });
    const asyncPick = compile({
      limiterIds: ['free', 'pro'],
      pick: async () => 'pro',
      options: {},
    });
    expect(await asyncPick.prepare(source('dave'))).toMatchObject({ tier: 1 });
  });

  it('plans every candidate at bootstrap', () => {
    const limit = compile({ limiterIds: ['free', 'pro'], pick: () => 'free', options: {} });
    expect(limit.limiterIds).toEqual(['free', 'pro']);
    expect(() => compile({ limiterIds: ['free', 'pr'], pick: () => 'free', options: {} })).toThrow(
      /Unknown limiter 'pr' in @RateLimit on Test\.handler; did you mean 'pro'/,
    );
  });
});

describe('CompiledLimit.acquire with a refused cost', () => {
  const huge = { options: { key: () => 'erin', cost: () => 1e9 } };

  it('rejects without consuming, with the real state of the key', async () => {
    const limit = compile({ limiterIds: ['pro'], ...huge });
    const call = limit.prepare(source('erin'));
    expect(call).toMatchObject({ refused: true });
    const { result, permit } = await limit.acquire(call as never);
    expect(permit).toBeUndefined();
    expect(result).toMatchObject({ allowed: false, limiterId: 'pro', limit: 5, remaining: 5 });
    expect((await rateSync.state('pro', 'erin')).remaining).toBe(5);
  });

  it('lets the call through in shadow mode, counted at the largest cost', async () => {
    const limit = compile({ limiterIds: ['watched'], ...huge });
    const { result, permit } = await limit.acquire(limit.prepare(source('erin')) as never);
    expect(result).toMatchObject({ allowed: true, limiterId: 'watched' });
    await permit?.release();
    expect((await rateSync.state('watched', 'erin')).remaining).toBe(0);
  });
});
