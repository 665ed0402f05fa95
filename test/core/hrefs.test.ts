import { describe, expect, it } from 'vitest';
import { rewriteHrefs } from '../../src/core/oneroster/hrefs.js';

const r = { upstreamBase: 'https://sis.example.org/aeries/ims/oneroster', gatewayBase: 'https://gw/districts/x/ims/oneroster' };

describe('href rewriting', () => {
  it('re-roots absolute, tilde-relative and foreign-host OneRoster hrefs at the gateway', () => {
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
    expect(body.users[0]!.href).toBe('https://vendor.example/not-oneroster');
  });

  it('reports no change when there is nothing to rewrite', () => {
    expect(rewriteHrefs({ users: [{ sourcedId: 'a', tags: ['x'] }] }, r)).toBe(false);
  });
});
