import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import type { FunctionLike } from '../function-like';

/**
 * The paths an HTTP route is declared with: the global prefix, each of its controller's paths
 * and each of its own (`/api/users/:id`), or undefined when the handler is not an HTTP route
 * (a resolver, a gateway or message handler, a provider method). Versions are not included.
 */
export function declaredRoutePaths(
  cls: FunctionLike,
  handler: FunctionLike,
  globalPrefix: string,
): string[] | undefined {
  if (Reflect.getMetadata(METHOD_METADATA, handler) === undefined) return undefined;
  const own = asList(Reflect.getMetadata(PATH_METADATA, handler));
  const controller = asList(Reflect.getMetadata(PATH_METADATA, cls));
  const paths: string[] = [];
  for (const base of controller) {
    for (const path of own) paths.push(joinPath(globalPrefix, base, path));
  }
  return paths;
}

function asList(value: unknown): string[] {
  if (Array.isArray(value)) return value.length ? value.map(String) : ['/'];
  return typeof value === 'string' ? [value] : ['/'];
}

function joinPath(...parts: string[]): string {
  const segments = parts.flatMap((p) => p.split('/')).filter((s) => s !== '');
  return `/${segments.join('/')}`;
}
