import { describe, expect, it } from 'vitest';
import { rewriteHref, rewriteHrefs } from '../../src/core/oneroster/hrefs.js';
import { createRedactor } from '../../src/core/redact.js';

const r = { upstreamBase: 'https://sis.example.org/aeries/ims/oneroster', gatewayBase: 'https://gw/districts/x/ims/oneroster' };

describe('href rewriting', () => {
  it('re-roots absolute, tilde-relative and foreign-host OneRoster hrefs at the gateway, and drops the rest', () => {
    const body = {
      users: [
        {
          orgs: [
            { href: 'https://sis.example.org/aeries/ims/oneroster/v1p1/orgs/1', sourcedId: '1', type: 'org' },
            { href: '~/ims/oneroster/v1p1/orgs/894', sourcedId: '894', type: 'org' },
            { href: 'https://real-sis.example.net/ims/oneroster/v1p1/orgs/2', sourcedId: '2', type: 'org' },
          ],
          metadata: { profile: 'https://sis.example.org/aeries/ims/oneroster/v1p1/users/5', vendor: 'https://vendor.example/x' },
          href: 'https://vendor.example/not-oneroster',
        },
      ],
    };
    expect(rewriteHrefs(body, r)).toBe(true);
    const [a, b, c] = body.users[0]!.orgs;
    expect(a!.href).toBe('https://gw/districts/x/ims/oneroster/v1p1/orgs/1');
    expect(b!.href).toBe('https://gw/districts/x/ims/oneroster/v1p1/orgs/894');
    expect(c!.href).toBe('https://gw/districts/x/ims/oneroster/v1p1/orgs/2');
    expect(body.users[0]!.metadata.profile).toBe('https://gw/districts/x/ims/oneroster/v1p1/users/5');
    expect(body.users[0]!.metadata.vendor).toBe('https://vendor.example/x');
    // Outside any OneRoster tree: it cannot point at the gateway, so it goes.
    expect('href' in body.users[0]!).toBe(false);
  });

  it.each([
    ['//sis.example.org/aeries/ims/oneroster/v1p1/orgs/1', '/v1p1/orgs/1'],
    ['HTTPS://SIS.EXAMPLE.ORG/AERIES/IMS/ONEROSTER/v1p1/orgs/1', '/v1p1/orgs/1'],
    ['HtTp://Sis.Example.Org:8443/aeries/ims/oneroster/v1p1/orgs/1', '/v1p1/orgs/1'],
    ['/aeries/ims/oneroster/v1p1/orgs/1', '/v1p1/orgs/1'],
    ['ims/oneroster/v1p1/orgs/1', '/v1p1/orgs/1'],
    ['  https://sis.example.org/aeries/ims/oneroster/v1p1/orgs/1?key=secret#frag ', '/v1p1/orgs/1'],
  ])('re-roots %s', (href, rest) => {
    expect(rewriteHref(href, r)).toBe(r.gatewayBase + rest);
  });

  it.each(['//sis.example.org/photos/1.jpg', 'HTTPS://SIS.EXAMPLE.ORG/aeries/api/orgs/1', 'javascript:alert(1)', 'orgs/1', '', 'mailto:x@sis.example.org'])(
    'drops %j, which points at no OneRoster tree',
    (href) => {
      expect(rewriteHref(href, r)).toBeUndefined();
    },
  );

  it("drops the district's own warnings beside the data", () => {
    const body = { users: [], statusInfoSet: [{ imsx_codeMajor: 'success', imsx_description: 'sort ignored at sis.example.org' }] };
    expect(rewriteHrefs(body, r)).toBe(true);
    expect(body).toEqual({ users: [] });
  });

  it('redacts the district secrets, hosts and paths in every string, and keys that name them, when the body is dirty', () => {
    const redactor = createRedactor({ secrets: () => ['tok-0123456789'], hosts: ['sis.example.org:8443'], paths: ['/aeries'] });
    const body = {
      users: [
        {
          sourcedId: 'u1',
          metadata: { note: 'call SIS.Example.Org:8443 with tok-0123456789', where: '/aeries/private', 'sis.example.org': 1 },
          href: 'https://sis.example.org:8443/aeries/ims/oneroster/v1p1/users/u1?token=tok-0123456789',
        },
      ],
    };
    expect(rewriteHrefs(body, { ...r, redactor }, true)).toBe(true);
    const text = JSON.stringify(body);
    expect(text).not.toMatch(/sis\.example\.org|tok-0123456789|\/aeries/i);
    expect(body.users[0]!.href).toBe('https://gw/districts/x/ims/oneroster/v1p1/users/u1');
    expect(body.users[0]!.metadata.note).toBe('call [redacted] with [redacted]');
  });

  it('reports no change when there is nothing to rewrite', () => {
    expect(rewriteHrefs({ users: [{ sourcedId: 'a', tags: ['x'] }] }, r)).toBe(false);
  });
});
