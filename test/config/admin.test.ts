import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { issuesOf } from './issues.js';

// admin: a token, its sha256, or (the demo's) generateToken: one made at start by `serve`.
const config = (admin: string) => `
auth: { tokenSecret: "${'x'.repeat(40)}" }
${admin}`;
const EXAMPLE = readFileSync('gateway.example.yaml', 'utf8');
const ADMIN_TOKEN = 'operator-chosen-admin-token-123';

describe('the admin block', () => {
  it('keeps the admin API off without an admin block', () => {
    expect(parseConfig(config(''), {}, 't').admin).toBeUndefined();
  });

  it('takes a token of 24 characters or more, or its sha256, exactly one of them', () => {
    expect(parseConfig(config(`admin: { token: ${ADMIN_TOKEN} }`), {}, 't').admin).toEqual({ token: ADMIN_TOKEN, generateToken: false });
    expect(issuesOf(config('admin: { token: short }'))).toEqual(['admin.token: must be at least 24 characters']);
    expect(issuesOf(config('admin: { token: "" }'))).toEqual(['admin.token: must be at least 24 characters']);
    expect(issuesOf(config('admin: {}'))).toEqual(['admin.token: exactly one of token or tokenSha256 is required (or generateToken: true)']);
    expect(issuesOf(config(`admin: { token: ${ADMIN_TOKEN}, tokenSha256: ${'a'.repeat(64)} }`))).toEqual(['admin.token: exactly one of token or tokenSha256 is required']);
  });

  it('with generateToken, an empty or absent token is left for serve to make; a given one is still checked', () => {
    expect(parseConfig(config('admin: { token: "", generateToken: true }'), {}, 't').admin).toEqual({ generateToken: true });
    expect(parseConfig(config('admin: { generateToken: true }'), {}, 't').admin).toEqual({ generateToken: true });
    expect(issuesOf(config('admin: { token: short, generateToken: true }'))).toEqual(['admin.token: must be at least 24 characters']);
    expect(issuesOf(config('admin: { generateToken: maybe }'))[0]).toMatch(/^admin\.generateToken: /);
  });

  it('the demo config: GATEWAY_ADMIN_TOKEN when set, else a token generated at start', () => {
    expect(parseConfig(EXAMPLE, { GATEWAY_ADMIN_TOKEN: ADMIN_TOKEN }, 'gateway.example.yaml').admin).toEqual({ token: ADMIN_TOKEN, generateToken: true });
    expect(parseConfig(EXAMPLE, {}, 'gateway.example.yaml').admin).toEqual({ generateToken: true });
    // A GATEWAY_ADMIN_TOKEN too short to be one fails at start, naming the field, not quoting it.
    const issues = issuesOf(EXAMPLE, { GATEWAY_ADMIN_TOKEN: 'tooshort' });
    expect(issues).toEqual(['admin.token: must be at least 24 characters']);
  });
});
