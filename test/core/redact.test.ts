import { describe, expect, it } from 'vitest';
import { rewriteHref } from '../../src/core/oneroster/hrefs.js';
import { readUpstreamStatusInfo } from '../../src/core/oneroster/status-info.js';
import { createRedactor, redactDescription } from '../../src/core/redact.js';

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
