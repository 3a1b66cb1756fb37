import { RequestMethod } from '@nestjs/common';
import type { FunctionLike } from '../function-like';

// Nest's PATH_METADATA and METHOD_METADATA, written out: Nest 12's package "exports" do not
// resolve '@nestjs/common/constants'.
const PATH_METADATA = 'path';
const METHOD_METADATA = 'method';

/** The global prefix, and the routes `setGlobalPrefix(prefix, { exclude })` leaves without it. */
export interface GlobalPrefix {
  readonly prefix: string;
  /** Nest's resolved `exclude` entries (method and path pattern). */
  readonly exclude?: readonly { requestMethod: RequestMethod; pathRegex: RegExp }[];
}

/**
 * The paths an HTTP route is declared with: the global prefix (unless the route is excluded
 * from it), each of its controller's paths and each of its own (`/api/users/:id`), or undefined
 * when the handler is not an HTTP route (a resolver, a gateway or message handler, a provider
 * method). Versions are not included.
 */
export function declaredRoutePaths(
  cls: FunctionLike,
  handler: FunctionLike,
  global: GlobalPrefix,
): string[] | undefined {
  const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
  if (method === undefined) return undefined;
  const own = asList(Reflect.getMetadata(PATH_METADATA, handler));
  const controller = asList(Reflect.getMetadata(PATH_METADATA, cls));
  const paths: string[] = [];
  for (const base of controller) {
    for (const path of own) {
      const route = joinPath(base, path);
      paths.push(
        excludedFromPrefix(global, route, method) ? route : joinPath(global.prefix, route),
      );
    }
  }
  return paths;
}

/** As Nest decides it when it registers the route. */
function excludedFromPrefix(global: GlobalPrefix, path: string, method: RequestMethod): boolean {
  return (global.exclude ?? []).some(
    (route) =>
      (route.requestMethod === RequestMethod.ALL ||
        (route.requestMethod as number) === -1 ||
        route.requestMethod === method) &&
      route.pathRegex.test(path),
  );
}

function asList(value: unknown): string[] {
  if (Array.isArray(value)) return value.length ? value.map(String) : ['/'];
  return typeof value === 'string' ? [value] : ['/'];
}

function joinPath(...parts: string[]): string {
  const segments = parts.flatMap((p) => p.split('/')).filter((s) => s !== '');
  return `/${segments.join('/')}`;
}
