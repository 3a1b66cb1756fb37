import { Logger } from '@nestjs/common';

/**
 * Warns once when a request carries `X-Forwarded-For` while no trusted proxy is configured:
 * behind a reverse proxy every client then has the proxy's address, and they all share one
 * bucket. One header lookup per request until it has warned, a flag check after.
 */
export class ForwardedForWarning {
  private warned = false;

  constructor(private readonly logger: Pick<Logger, 'warn'> = new Logger('RateSync')) {}

  /** Looks at one request (Express's, or Fastify's with its `raw`). */
  check(request: unknown): void {
    if (this.warned) return;
    const raw = ((request as { raw?: unknown }).raw ?? request) as {
      headers?: Record<string, unknown>;
    };
    if (raw.headers?.['x-forwarded-for'] === undefined) return;
    this.warned = true;
    this.logger.warn(
      'A request carries X-Forwarded-For but no trusted proxy is configured, so clients are ' +
        'counted by the socket address: behind a reverse proxy or load balancer, every client ' +
        "shares the proxy's bucket. Set RateSyncModule's trustedProxies option to the " +
        "proxies' CIDRs (e.g. ['10.0.0.0/8']). If nothing sits in front of the application, " +
        'ignore this: the header is written by the client and is rightly not believed. ' +
        '(Shown once.)',
    );
  }
}
