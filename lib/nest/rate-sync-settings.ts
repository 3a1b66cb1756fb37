import type { Type } from '@nestjs/common';
import {
  InvalidArgumentError,
  systemClock,
  type Clock,
  type ConfigProblem,
  type MetricsExportOptions,
  type RateSyncConfig,
} from '../core';
import { loadConfig } from '../core/config';
import { didYouMean } from '../core/config/did-you-mean';
import { DEFAULT_IPV6_SUBNET } from './http/ip-address';
import { DecisionLog } from './decision-log';
import { ForwardedForWarning } from './http/forwarded-for-warning';
import {
  HEADERS_MODES,
  RESET_HEADER_MODES,
  type RateLimitHeadersMode,
  type ResetHeaderMode,
} from './http/rate-limit-headers';
import type { RefusalBodyOption } from './http/refusal-body';
import { SkipRule } from './limits/skip-rule';
import { DefaultLimit } from './routes/default-limit';
import { TrustedProxies } from './http/trusted-proxies';
import type { RateLimitGuard } from './rate-limit.guard';
import type { RateSyncModuleOptions } from './rate-sync-module-options.interface';

/** The module options with defaults applied and the configuration loaded and validated. */
export interface RateSyncSettings {
  readonly config: RateSyncConfig;
  /** What loads but has no effect (see `ValidatedConfig.warnings`); logged once at boot. */
  readonly warnings: readonly ConfigProblem[];
  readonly trustedProxies: TrustedProxies;
  /** IPv6 clients are counted by their network of this prefix length (1 to 128). */
  readonly ipv6Subnet: number;
  readonly headers: RateLimitHeadersMode;
  /** The guard class to register, when not the default. */
  readonly guard?: Type<RateLimitGuard>;
  /** Whether `RateLimitInterceptor` is registered globally, for non-HTTP handlers. */
  readonly nonHttp: boolean;
  readonly clock: Clock;
  /** The metrics exporters to attach at init. */
  readonly metrics: MetricsExportOptions;
  /** `false`: every limiter in shadow mode. */
  readonly enforce: boolean;
  /** The decision log, when on. */
  readonly decisionLog?: DecisionLog;
  /** The limit of HTTP routes without `@RateLimit`, when set. */
  readonly defaultLimit?: DefaultLimit;
  /** The module's `skip` option, when set. */
  readonly skip?: SkipRule;
  /** The body of 429 and 503 answers. */
  readonly errorBody: RefusalBodyOption;
  /** What `X-RateLimit-Reset` holds. */
  readonly resetHeader: ResetHeaderMode;
  /** Set when no trusted proxy is configured: warns once about `X-Forwarded-For`. */
  readonly forwardedForWarning?: ForwardedForWarning;
}

const OPTION_NAMES: readonly (keyof RateSyncModuleOptions)[] = [
  'configFile',
  'stores',
  'limiters',
  'trustedProxies',
  'ipv6Subnet',
  'headers',
  'guard',
  'nonHttp',
  'clock',
  'metrics',
  'enforce',
  'decisionLog',
  'defaultLimit',
  'skip',
  'errorBody',
  'resetHeader',
];

/**
 * Applies the defaults and validates the module options: the one place that does.
 *
 * @throws ConfigValidationError listing every configuration problem (file and inline)
 * @throws InvalidArgumentError for an unknown option, a bad `headers`, `guard`, `nonHttp`,
 *   `ipv6Subnet`, `skip`, `errorBody` or `resetHeader` value, a bad CIDR, or a `defaultLimit`
 *   naming an unknown limiter or holding a bad route pattern
 */
export function resolveSettings(options: RateSyncModuleOptions = {}): RateSyncSettings {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('options', 'expected the rate-sync module options object');
  }
  for (const name of Object.keys(options)) {
    if (!OPTION_NAMES.includes(name as keyof RateSyncModuleOptions)) {
      throw new InvalidArgumentError(
        name,
        `unknown RateSyncModule option${didYouMean(name, OPTION_NAMES)} (known: ${OPTION_NAMES.join(', ')})`,
      );
    }
  }
  const headers = options.headers ?? 'legacy';
  if (!HEADERS_MODES.includes(headers)) {
    throw new InvalidArgumentError(
      'headers',
      `expected 'legacy', 'ietf', 'both' or false, got ${JSON.stringify(headers)}`,
    );
  }
  if (options.guard !== undefined && typeof options.guard !== 'function') {
    throw new InvalidArgumentError('guard', 'expected a class extending RateLimitGuard');
  }
  if (options.nonHttp !== undefined && typeof options.nonHttp !== 'boolean') {
    throw new InvalidArgumentError('nonHttp', `expected a boolean, got ${typeof options.nonHttp}`);
  }
  const ipv6Subnet = options.ipv6Subnet ?? DEFAULT_IPV6_SUBNET;
  if (!Number.isInteger(ipv6Subnet) || ipv6Subnet < 1 || ipv6Subnet > 128) {
    throw new InvalidArgumentError(
      'ipv6Subnet',
      `expected an IPv6 prefix length, an integer from 1 to 128 (56: a customer's network; 128: each address alone), got ${JSON.stringify(ipv6Subnet)}`,
    );
  }
  if (options.enforce !== undefined && typeof options.enforce !== 'boolean') {
    throw new InvalidArgumentError('enforce', `expected a boolean, got ${typeof options.enforce}`);
  }
  if (options.skip !== undefined && typeof options.skip !== 'function') {
    throw new InvalidArgumentError('skip', `expected a function (context) => boolean`);
  }
  const errorBody = options.errorBody ?? 'json';
  if (errorBody !== 'json' && errorBody !== 'problem' && typeof errorBody !== 'function') {
    throw new InvalidArgumentError(
      'errorBody',
      `expected 'json', 'problem' or a function (refusal, host) => body, got ${JSON.stringify(errorBody)}`,
    );
  }
  const resetHeader = options.resetHeader ?? 'epoch';
  if (!RESET_HEADER_MODES.includes(resetHeader)) {
    throw new InvalidArgumentError(
      'resetHeader',
      `expected 'epoch' or 'delay', got ${JSON.stringify(resetHeader)}`,
    );
  }
  const clock = options.clock ?? systemClock;
  const decisionLog = resolveDecisionLog(options.decisionLog, clock);
  const config = loadConfig({
    configFile: options.configFile,
    stores: options.stores,
    limiters: options.limiters,
  });
  const { trustedProxies, warnings, ...rest } = config;
  const cidrs = options.trustedProxies ?? trustedProxies ?? [];
  const defaultLimit =
    options.defaultLimit === undefined
      ? undefined
      : DefaultLimit.resolve(options.defaultLimit, Object.keys(rest.limiters));
  return {
    config: rest,
    warnings,
    trustedProxies: cidrs.length ? TrustedProxies.parse(cidrs) : TrustedProxies.none,
    ipv6Subnet,
    headers,
    guard: options.guard,
    nonHttp: options.nonHttp ?? false,
    clock,
    metrics: options.metrics ?? {},
    enforce: options.enforce ?? true,
    decisionLog,
    defaultLimit,
    skip: options.skip && new SkipRule(options.skip, "RateSyncModule's skip option"),
    errorBody,
    resetHeader,
    forwardedForWarning: cidrs.length ? undefined : new ForwardedForWarning(),
  };
}

function resolveDecisionLog(
  value: RateSyncModuleOptions['decisionLog'],
  clock: Clock,
): DecisionLog | undefined {
  if (value === undefined || value === false) return undefined;
  const options = value === true ? {} : value;
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(
      'decisionLog',
      `expected a boolean or { sampleRate, maxPerSecond }, got ${JSON.stringify(value)}`,
    );
  }
  const { sampleRate, maxPerSecond } = options;
  if (
    sampleRate !== undefined &&
    !(typeof sampleRate === 'number' && sampleRate >= 0 && sampleRate <= 1)
  ) {
    throw new InvalidArgumentError(
      'decisionLog.sampleRate',
      `expected a number between 0 and 1, got ${JSON.stringify(sampleRate)}`,
    );
  }
  if (maxPerSecond !== undefined && !(Number.isInteger(maxPerSecond) && maxPerSecond >= 1)) {
    throw new InvalidArgumentError(
      'decisionLog.maxPerSecond',
      `expected an integer >= 1, got ${JSON.stringify(maxPerSecond)}`,
    );
  }
  return new DecisionLog(options, () => clock.now());
}
