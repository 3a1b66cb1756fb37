import { Controller, Get, Header } from '@nestjs/common';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { RateSyncHealthIndicator } from '@rate-sync/nestjs';
import { register } from 'prom-client';

@Controller()
export class MetricsController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly rateSync: RateSyncHealthIndicator,
  ) {}

  /**
   * prom-client's default registry, where rate-sync registers its metrics (decisions by limiter
   * and outcome, decision latency, wait time, held slots, breaker state, store failures).
   */
  @Get('metrics')
  @Header('content-type', register.contentType)
  metrics(): Promise<string> {
    return register.metrics();
  }

  /** Readiness: every store reachable (503 otherwise), with each breaker's state. */
  @Get('health')
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    return this.health.check([() => this.rateSync.isHealthy('rate_sync')]);
  }
}
