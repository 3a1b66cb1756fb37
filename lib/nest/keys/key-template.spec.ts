import type { ExecutionContext } from '@nestjs/common';
import { EMAIL_SPELLINGS } from '../../../test/fixtures/email-spellings';
import { compileKeyTemplate } from './key-template';
import type { KeySource, RequestLike } from './key-source';

function source(request?: RequestLike, args: unknown[] = [], ip = '192.0.2.1'): KeySource {
  return { context: {} as ExecutionContext, request, args, ip: () => ip };
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

  it('normalising filters make eight spellings of one address one key', () => {
    const t = compileKeyTemplate('login:{body.email|email}');
    const keys = new Set(EMAIL_SPELLINGS.map((email) => t.render(source({ body: { email } })).key));
    expect([...keys]).toEqual(['login:alice@example.com']);
  });

  it.each([
    ['{body.s|lower}', '\u212a', 'k'], // the Kelvin sign
    ['{body.s|lower}', 'STRAẞE stra\u017fse', 'strasse strasse'], // capital ẞ, long ſ
    ['{body.s|lower}', 'I', 'i'], // whatever the server's locale (a Turkish one says ı)
    ['{body.s|trim}', '\u00a0 x \u3000', 'x'],
    ['{body.s|nfkc}', '\ufb01X', 'fiX'],
    ['{body.s|trim|lower}', '  ', '-'], // nothing left: missing
  ])('%s renders %j as %j', (template, s, key) => {
    const t = compileKeyTemplate(template);
    expect(t.render(source({ body: { s } })).key).toBe(key);
    if (key !== '-') expect(t.render(source({ body: { s: key } })).key).toBe(key); // idempotent
  });

  it('escapes values so that two different tuples never render the same key', () => {
    const t = compileKeyTemplate('{body.a}:{body.b}');
    const key = (a: unknown, b: unknown) => t.render(source({ body: { a, b } })).key;
    expect(key('x:y', 'z')).toBe('x%3ay:z');
    expect(key('x', 'y:z')).toBe('x:y:z'); // the last field is followed by nothing: kept as is
    expect(key('-', 'z')).not.toBe(key(undefined, 'z')); // '-' alone means missing
    expect(key('%3a', 'z')).toBe('%253a:z');
    const pairs: [string, string][] = [];
    const parts = ['', ':', '-', '%', 'x', 'x:', ':x', '%3a', '-:-', 'ü:'];
    for (const a of parts) for (const b of parts) pairs.push([a, b]);
    const rendered = new Map<string, string>();
    for (const [a, b] of pairs) {
      // Empty counts as missing on purpose ('' and undefined are one tuple).
      const tuple = JSON.stringify([a || undefined, b || undefined]);
      const k = key(a, b);
      expect([k, rendered.get(k) ?? tuple]).toEqual([k, tuple]);
      rendered.set(k, tuple);
    }
  });

  it('keeps the template text readable and escapes only what would be ambiguous', () => {
    const t = compileKeyTemplate('login/{ip}/{body.email|email}');
    expect(t.render(source({ body: { email: 'a/b@x.io' } })).key).toBe('login/192.0.2.1/a/b@x.io');
    expect(t.render(source({ body: { email: 'a@x.io' } }, [], '2001:db8::1')).key).toBe(
      'login/2001:db8::%2f56/a@x.io',
    );
  });

  it('groups IPv6 clients by the source default, /56, or the template filter', () => {
    const ip = (template: string, address: string, ipv6Subnet?: number) =>
      compileKeyTemplate(template).render({ ...source(undefined, [], address), ipv6Subnet }).key;
    expect(ip('{ip}', '2001:db8:1:2ff:1:2:3:4')).toBe('2001:db8:1:200::/56');
    expect(ip('{ip}', '2001:db8:1:2ff:1:2:3:4', 64)).toBe('2001:db8:1:2ff::/64');
    expect(ip('{ip|v6/48}', '2001:db8:1:2ff:1:2:3:4', 64)).toBe('2001:db8:1::/48');
    expect(ip('{ip|v6/128}', '2001:db8:1:2ff:1:2:3:4')).toBe('2001:db8:1:2ff:1:2:3:4');
    expect(ip('{ip}', '::ffff:198.51.100.4')).toBe('198.51.100.4');
    expect(ip('{ip}', '198.51.100.4')).toBe('198.51.100.4');
    expect(ip('{ip}', '-')).toBe('-'); // unknown client
  });

  it.each([
    ['{bdy.email}', /unknown source 'bdy'/],
    ['{body.email|lowercase}', /'{body.email\|lowercase}'.*unknown filter 'lowercase'; use/],
    ['{body.email|v6/64}', /'v6\/64' applies to {ip} only/],
    ['{ip|v6/0}', /prefix length is 1 to 128/],
    ['{ip|v6/129}', /prefix length is 1 to 128/],
    ['{body.a}{body.b}', /{body.a}.*put a separator/],
    ['{body.a}1{body.b}', /must not be a digit or '%'/],
    ['{body.a}%', /must not be a digit or '%'/],
    ['{ip.x}', /takes no property/],
    ['{body}', /name a property/],
    ['{body..x}', /empty property name/],
    ['login:{body.email', /unbalanced brace/],
    ['a}b', /unbalanced brace/],
  ])('rejects %s', (template, message) => {
    expect(() => compileKeyTemplate(template)).toThrow(message);
  });

  it('names the template and where it is declared', () => {
    expect(() => compileKeyTemplate('{body.e|low}', 'in @RateLimit on Auth.login')).toThrow(
      "key: placeholder {body.e|low} in '{body.e|low}' (in @RateLimit on Auth.login): unknown filter 'low'",
    );
  });
});
