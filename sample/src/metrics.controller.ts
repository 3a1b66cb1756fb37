import { Controller, Get, Header } from '@nestjs/common';
import { LimiterService, type StoreHealth } from '@rate-sync/nestjs';

@Controller()
export class MetricsController {
  constructor(private readonly limiters: LimiterService) {}

  /** Every limiter's counters in this process, in the Prometheus text format. */
  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4')
  metrics(): string {
    return this.limiters.prometheus();
  }

  /** Per store: whether it answers a probe at most a second old, and its circuit breaker's state. */
  @Get('health')
  health(): Promise<StoreHealth[]> {
    return this.limiters.health();
  }
}
