import { Controller, Get, Injectable, Module } from '@nestjs/common';
import { LimiterService, RateLimit, RateSyncModule, SkipRateLimit } from '@rate-sync/nestjs';

/** A provider whose method is limited through discovery, in `try` mode. */
@Injectable()
export class QuoteService {
  calls = 0;

  @RateLimit('quote', { mode: 'try' })
  async fetchQuote(symbol: string): Promise<string> {
    this.calls++;
    return `quote:${symbol}`;
  }
}

@Controller()
export class HelloController {
  constructor(readonly limiters: LimiterService) {}

  @Get('hello')
  @RateLimit('hello')
  hello(): { hello: string } {
    return { hello: 'world' };
  }

  @Get('free')
  @SkipRateLimit()
  free(): { free: boolean } {
    return { free: true };
  }
}

@Module({
  imports: [
    RateSyncModule.forRoot({
      configFile: false,
      stores: { mem: { engine: 'memory' } },
      limiters: {
        hello: { store: 'mem', ratePerSecond: 1, burst: 3 },
        quote: { store: 'mem', ratePerSecond: 1 },
        jobs: { store: 'mem', maxConcurrent: 1 },
      },
    }),
  ],
  controllers: [HelloController],
  providers: [QuoteService],
})
export class AppModule {}
