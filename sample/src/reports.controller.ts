import { Controller, Get } from '@nestjs/common';
import { RateLimit } from '@rate-sync/nestjs';

@Controller('reports')
export class ReportsController {
  /**
   * At most 2 reports at once across every caller (`key: false`: one bucket shared by all,
   * instead of the default bucket per client IP). The limiter's `timeout = 0` rejects a third
   * at once; each slot is freed when its response ends or its connection closes.
   */
  @Get('slow')
  @RateLimit('reports', { key: false })
  async slow(): Promise<{ report: string; tookMs: number }> {
    const started = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    return { report: 'done', tookMs: Date.now() - started };
  }
}
