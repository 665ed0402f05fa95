import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rewriteHref } from '../../src/core/oneroster/hrefs.js';
import { readUpstreamStatusInfo } from '../../src/core/oneroster/status-info.js';
import { createRedactor, NO_REDACTION, redactDescription } from '../../src/core/redact.js';

const SECRET = 'S3cr3tValue-0123456789';
const redactor = createRedactor({
  secrets: () => [SECRET],
  identifiers: () => ['gw-account'],
  hosts: ['sis.example.org:8443'],
  paths: ['/api'],
});

describe('a district redactor', () => {
  it('replaces credentials exactly, hosts with and without port in any case, and the vendor path with its host', () => {
    expect(redactor.redact(`token ${SECRET} at SIS.Example.ORG:8443/API/v1 and sis.example.org`)).toBe('token [redacted] at [redacted]/v1 and [redacted]');
    expect(redactor.redact(encodeURIComponent(`a ${SECRET}`))).not.toContain(SECRET);
    expect(redactor.redact(`b64 ${Buffer.from(SECRET).toString('base64')}`)).not.toContain(Buffer.from(SECRET).toString('base64').slice(0, 20));
  });

  it("leaves other servers' URLs and longer names alone: only a whole path where a path starts", () => {
    for (const text of ['https://cdn.vendor.com/API/v2/apiary/x', 'mysis.example.org', 'sis.example.org.evil', '/apiary', 'see /api-docs']) {
      expect(redactor.redact(text), text).toBe(text);
    }
    expect(redactor.redact('path /api/v1')).toBe('path [redacted]/v1');
  });

  it('keeps account names in data but not in error text', () => {
    expect(redactor.redact('owner gw-account')).toBe('owner gw-account');
    expect(redactDescription('refused gw-account', redactor)).toBe('refused [redacted]');
  });

  it('never lets the head of a secret through where a long description was cut', () => {
    // The secret straddles the point where the description is cut before redaction; the URL
    // before it shrinks to [url], which would bring the head into the text a client reads.
    const description = `see https://${'a'.repeat(1980)} ${SECRET} more`;
    const info = readUpstreamStatusInfo(500, { imsx_description: description });
    const out = redactDescription(info.description!, redactor);
    expect(out).not.toContain(SECRET.slice(0, 6));
    expect(out.startsWith('see [url]')).toBe(true);
  });
});

describe('href re-rooting', () => {
  const r = { upstreamBase: 'https://sis.example.org:8443/api/ims/oneroster', gatewayBase: 'https://gw/districts/x/ims/oneroster', redactor };
  it.each([
    'https://sis.example.org:8443/api/ims/oneroster/../../districts/other/ims/oneroster/v1p1/users/1',
    '~/ims/oneroster/v1p1/%2e%2e/%2E%2E/x',
    '/ims/oneroster/v1p1/users/./1',
    'https://sis/ims/oneroster/v1p1\\..\\..\\admin',
  ])('drops %s: a dot segment or backslash would climb out of the district root', (href) => {
    expect(rewriteHref(href, r)).toBeUndefined();
  });
});

describe('redactor byte pre-check (mayHold)', () => {
  const redactor = createRedactor({ secrets: () => ['tok-0123456789/+x'], hosts: ['sis.example.org:8443', 'sis.example.org'], paths: ['/aeries'] });
  const b = (s: string) => Buffer.from(s, 'utf8');

  it('rules out a body holding none of the district, and never rules out one that test() finds', () => {
    expect(redactor.mayHold(b('{"users":[{"givenName":"Ren\u00e9e","href":"https://gw/districts/x/ims/oneroster/v1p1/orgs/1"}]}'))).toBe(false);
    const found = [
      'SIS.Example.ORG',
      'x sis.example.org:8443/y',
      'see /AERIES/api',
      'tok-0123456789/+x',
      encodeURIComponent('tok-0123456789/+x'),
      Buffer.from('tok-0123456789/+x').toString('base64').replace(/=+$/, ''),
    ];
    for (const s of found) {
      expect(redactor.test(s)).toBe(true);
      expect([s, redactor.mayHold(b(`{"a":"${s}"}`))]).toEqual([s, true]);
    }
  });

  it('over-approximates: whatever test() finds, mayHold finds too (random text around the district)', () => {
    const parts = fc.constantFrom('sis.example.org', 'SIS.EXAMPLE.ORG', '/aeries', '/Aeries/x', 'mysis.example.org.x', 'tok-0123456789/+x', 'é', '"', ' ', 'a');
    fc.assert(
      fc.property(fc.array(fc.oneof(parts, fc.string()), { maxLength: 8 }), (bits) => {
        const text = bits.join('');
        if (redactor.test(text)) expect(redactor.mayHold(b(text))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('finds the host in any case at every byte offset, beside multi-byte characters', () => {
    for (let pad = 0; pad < 8; pad++) {
      for (const host of ['SIS.EXAMPLE.ORG', 'sIs.ExAmPlE.oRg', 'Sis.Example.Org']) {
        const text = `{"a":"${'\u00c9'.repeat(pad)}${'Z'.repeat(pad % 3)} ${host}\u00c9@[\`"}`;
        expect([text, redactor.mayHold(b(text))]).toEqual([text, true]);
        // Not the host once one of its letters is another byte (the lowering itself: test/core/ascii.test.ts).
        expect(redactor.mayHold(b(text.replace(host, host.replace(/[sS]/, '@'))))).toBe(false);
      }
    }
  });

  it("skips the district's host inside the gateway's own root, and only there", () => {
    const root = 'http://sis.example.org:9000/districts/x/ims/oneroster';
    const page = `{"users":[{"href":"${root}/v1p1/orgs/1"},{"href":"${root}/v1p1/orgs/2"}]}`;
    expect(redactor.mayHold(b(page), root)).toBe(false);
    expect(redactor.mayHold(b(page))).toBe(true);
    // Set aside as test()'s callers set it aside: written exactly so, not in another case.
    const shouted = `{"users":[{"href":"${root.toUpperCase()}/v1p1/orgs/2"}]}`;
    expect(redactor.test(shouted.replaceAll(root, ''))).toBe(true);
    expect(redactor.mayHold(b(shouted), root)).toBe(true);
    expect(redactor.mayHold(b(`${page} sis.example.org`), root)).toBe(true);
    // Where the root is known to stand, it is passed over without a search; elsewhere it still counts.
    const known = [page.indexOf(root), page.indexOf(root) + root.length];
    expect(redactor.mayHold(b(page), undefined, known)).toBe(true);
    const once = `{"href":"${root}/v1p1/orgs/1"}`;
    expect(redactor.mayHold(b(once), undefined, [9, 9 + root.length])).toBe(false);
    expect(redactor.mayHold(b(`${once}sis.example.org`), undefined, [9, 9 + root.length])).toBe(true);
  });

  it('cannot rule out a district whose path is not ASCII, and rules out everything for a redactor that knows nothing', () => {
    const accents = createRedactor({ secrets: () => [], hosts: ['sis.example.org'], paths: ['/élèves'] });
    expect(accents.mayHold(b('{"users":[]}'))).toBe(true);
    expect(NO_REDACTION.mayHold(b('sis.example.org'))).toBe(false);
  });
});
