import { InvalidArgumentError } from '../../core';
import { compileRoutePattern } from './route-pattern';

describe('compileRoutePattern', () => {
  const matches = (pattern: string, path: string): boolean =>
    compileRoutePattern(pattern, 'p').matches(path);

  it('matches literal segments exactly, ignoring leading and trailing slashes', () => {
    expect(matches('/health', '/health')).toBe(true);
    expect(matches('/health', 'health/')).toBe(true);
    expect(matches('/health', '/health/live')).toBe(false);
    expect(matches('/health', '/healthz')).toBe(false);
    expect(matches('/', '/')).toBe(true);
    expect(matches('/', '/a')).toBe(false);
  });

  it("'*' is one segment, parameters included", () => {
    expect(matches('/users/*', '/users/:id')).toBe(true);
    expect(matches('/users/*', '/users')).toBe(false);
    expect(matches('/users/*', '/users/:id/posts')).toBe(false);
    expect(matches('/*/health', '/api/health')).toBe(true);
  });

  it("'**' is any number of segments, none included", () => {
    expect(matches('/admin/**', '/admin')).toBe(true);
    expect(matches('/admin/**', '/admin/users/:id')).toBe(true);
    expect(matches('/admin/**', '/administrator')).toBe(false);
    expect(matches('/**/health', '/health')).toBe(true);
    expect(matches('/**/health', '/api/v1/health')).toBe(true);
    expect(matches('/**', '/anything/at/all')).toBe(true);
  });

  it.each([
    ['health', "starting with '/'"],
    ['/a//b', 'empty segment'],
    ['/admin*', "'*' must be a whole segment"],
    ['/a/**x', "'*' must be a whole segment"],
  ])('rejects %p, naming the option', (pattern, reason) => {
    expect(() => compileRoutePattern(pattern, 'defaultLimit.exclude[1]')).toThrow(
      InvalidArgumentError,
    );
    expect(() => compileRoutePattern(pattern, 'defaultLimit.exclude[1]')).toThrow(
      new RegExp(`^defaultLimit\\.exclude\\[1\\]: .*${reason.replace(/[*'()[\]]/g, '\\$&')}`),
    );
  });

  it('rejects a pattern that is not a string', () => {
    expect(() => compileRoutePattern(42, 'defaultLimit.include[0]')).toThrow(
      /^defaultLimit\.include\[0\]: expected a route pattern/,
    );
  });
});
