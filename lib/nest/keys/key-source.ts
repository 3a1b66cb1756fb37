import type { ExecutionContext } from '@nestjs/common';

/** The parts of an Express or Fastify request that key templates read. */
export interface RequestLike {
  readonly headers?: Record<string, string | string[] | undefined>;
  readonly body?: unknown;
  readonly params?: unknown;
  readonly query?: unknown;
  readonly user?: unknown;
}

/** What a key is computed from, for one call. */
export interface KeySource {
  /** The execution context (a route, a resolver, a message handler, or a provider method). */
  readonly context: ExecutionContext;
  /** The call's arguments (`{0}`, `{1.tenantId}` in templates). */
  readonly args: readonly unknown[];
  /** A GraphQL resolver's arguments (`{args.id}` in templates). */
  readonly resolverArgs?: unknown;
  /** The HTTP request, when there is one (for a WebSocket: its handshake). */
  readonly request?: RequestLike;
  /** The client identifier (by default the client IP), computed on demand. */
  ip(): string | undefined;
  /**
   * The prefix length by which IPv6 client addresses are grouped into one key (the module's
   * `ipv6Subnet`). @default 56
   */
  readonly ipv6Subnet?: number;
}
