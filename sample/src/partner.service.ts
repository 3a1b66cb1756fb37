import { Injectable } from '@nestjs/common';
import { RateLimit } from '@rate-sync/nestjs';

@Injectable()
export class PartnerService {
  /**
   * The partner API allows 2 calls per second. In `wait` mode a burst of callers is spaced
   * 500 ms apart instead of rejected.
   */
  @RateLimit('partner_api', { mode: 'wait' })
  async quote(): Promise<{ price: number; at: string }> {
    return { price: Math.round(Math.random() * 10_000) / 100, at: new Date().toISOString() };
  }
}
