import type { ExecutionContext } from '@nestjs/common';
import { compileKeyTemplate } from './key-template';
import type { KeySource, RequestLike } from './key-source';

function source(request?: RequestLike, args: unknown[] = []): KeySource {
  return { context: {} as ExecutionContext, request, args, ip: () => '192.0.2.1' };
}

describe('compileKeyTemplate', () => {
  const request: RequestLike = {
    headers: { 'x-tenant-id': 'acme', cookie: ['a', 'b'] as unknown as string },
    body: { email: 'a@x.io', nested: { n: 7 }, flag: false, empty: '' },
    params: { id: '42' },
    query: { q: 'search' },
    user: { id: 'u1' },
  };

  it.each([
    ['{ip}', '192.0.2.1'],
    ['login:{body.email}', 'login:a@x.io'],
    ['{ip}:{body.email}', '192.0.2.1:a@x.io'],
    ['{user.id}', 'u1'],
    ['tenant:{headers.X-Tenant-Id}', 'tenant:acme'],
    ['{params.id}/{query.q}', '42/search'],
    ['{body.nested.n}:{body.flag}', '7:false'],
    ['static', 'static'],
  ])('%s -> %s', (template, key) => {
    expect(compileKeyTemplate(template).render(source(request))).toEqual({ key, missing: [] });
  });

  it('reads arguments by index', () => {
    const t = compileKeyTemplate('{0}:{1.tenantId}');
    expect(t.readsRequest).toBe(false);
    expect(t.render(source(undefined, ['job', { tenantId: 't1' }])).key).toBe('job:t1');
  });

  it("renders missing, empty and non-scalar fields as '-' and reports them", () => {
    const t = compileKeyTemplate(
      '{body.missing}|{body.empty}|{body.nested}|{headers.cookie}|{body.constructor}',
    );
    expect(t.render(source(request))).toEqual({
      key: '-|-|-|-|-',
      missing: ['body.missing', 'body.empty', 'body.nested', 'headers.cookie', 'body.constructor'],
    });
    expect(compileKeyTemplate('{body.email}').render(source(undefined)).key).toBe('-');
  });

  it.each([
    ['{bdy.email}', /unknown source 'bdy'/],
    ['{ip.x}', /takes no property/],
    ['{body}', /name a property/],
    ['{body..x}', /empty property name/],
    ['login:{body.email', /unbalanced brace/],
    ['a}b', /unbalanced brace/],
  ])('rejects %s', (template, message) => {
    expect(() => compileKeyTemplate(template)).toThrow(message);
  });
});
