import { Body, Controller, HttpCode, Post, UnauthorizedException } from '@nestjs/common';
import { RateLimit } from '@rate-sync/nestjs';

interface LoginBody {
  email?: string;
  password?: string;
}

@Controller('auth')
export class AuthController {
  /**
   * 5 failed attempts per 300 s per client IP + email: a successful login is refunded, so a
   * user who logs in often is never locked out, while guessing passwords is. `|email` makes
   * every spelling of one address (case, surrounding spaces, Unicode variants) one key.
   */
  @Post('login')
  @HttpCode(200)
  @RateLimit('login', {
    key: '{ip}:{body.email|email}',
    refundWhen: ({ status }) => status !== undefined && status < 400,
  })
  login(@Body() body: LoginBody): { token: string } {
    if (body.password !== 'demo') throw new UnauthorizedException('wrong email or password');
    return { token: `demo-token-for-${body.email ?? 'anonymous'}` };
  }
}
