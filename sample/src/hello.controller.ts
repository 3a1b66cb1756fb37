import { Controller, Get } from '@nestjs/common';
import { RateLimit } from '@rate-sync/nestjs';

@Controller('api')
export class HelloController {
  /** Token bucket per client IP (the default key): 10/s, bursts of 20. */
  @Get('hello')
  @RateLimit('api')
  hello(): { message: string } {
    return { message: 'hello' };
  }
}
