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

  /** Per store: reachable as far as this process knows, and its circuit breaker's state. */
  @Get('health')
  health(): StoreHealth[] {
    return this.limiters.health();
  }
}
