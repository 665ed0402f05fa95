// Problems at file:line:column, with list entries named by their id: what an operator with
// 300 districts needs to find the line to fix.
import { describe, expect, it } from 'vitest';
import { placedIssuesOf } from './issues.js';

const SECRET = 'x'.repeat(40);

describe('problem positions', () => {
  it('places a YAML syntax error at its line and column', () => {
    const text = ['auth:', `  tokenSecret: ${SECRET}`, 'districts:', '  - id: a', '    version: v1p1', '     baseUrl: x'].join('\n');
    const issues = placedIssuesOf(text, {}, 'gateway.yaml');
    expect(issues.length).toBeGreaterThan(0);
    expect(issues[0]).toMatch(/^gateway\.yaml:5:14: YAML: /);
  });

  it('places an unclosed flow sequence, and keeps the file text out of the message', () => {
    const issues = placedIssuesOf(`auth: { tokenSecret: ${SECRET} }\nsecretish: [unclosed-SeCrEt\n`, {}, 'gateway.yaml');
    expect(issues.every((i) => /^gateway\.yaml:\d+:\d+: YAML: /.test(i))).toBe(true);
    expect(issues.join('\n')).not.toContain('SeCrEt');
  });

  it('places schema problems at the value (or the mapping that lacks the key), naming districts and clients by id', () => {
    const text = `auth:
  tokenSecret: ${SECRET}
  clients:
    - clientId: reporting
      clientSecret: reporting-secret-value
      districts: [demo-1, demo-2]
      scopes: [roster.everything]
districts:
  - id: demo-1
    version: v1p1
    baseUrl: https://a.example/ims/oneroster
    auth: { type: oauth1, consumerKey: k, consumerSecret: s }
  - id: demo-2
    version: v1p3
    baseUrl: https://b.example/ims/oneroster
    auth:
      type: oauth1
      consumerKey: k
`;
    const issues = placedIssuesOf(text, {}, 'gateway.yaml');
    expect(issues).toHaveLength(3);
    expect(issues).toContain('gateway.yaml:14:14: districts[demo-2].version: must be v1p1, v1p2 or auto');
    expect(issues).toContain('gateway.yaml:17:7: districts[demo-2].auth.consumerSecret: required');
    expect(issues.some((i) => i.startsWith('gateway.yaml:7:16: auth.clients[reporting].scopes[0]: unknown scope'))).toBe(true);
  });

  it('counts columns in the file as written, after a ${VAR} on the same line', () => {
    const text = `auth: { tokenSecret: "\${TOKEN_SECRET_FROM_THE_ENVIRONMENT}", tokenTtlSeconds: 0 }\n`;
    const [issue] = placedIssuesOf(text, { TOKEN_SECRET_FROM_THE_ENVIRONMENT: SECRET }, 'gateway.yaml');
    expect(issue).toBe(`gateway.yaml:1:${text.indexOf('0 }') + 1}: auth.tokenTtlSeconds: Too small: expected number to be >=60`);
  });

  it('keeps the index for an entry without a showable id', () => {
    const text = `auth: { tokenSecret: ${SECRET} }\ndistricts:\n  - { version: v1p1, baseUrl: https://a.example, auth: { type: bearer, token: t } }\n`;
    expect(placedIssuesOf(text, {}, 'gateway.yaml')).toEqual(['gateway.yaml:3:5: districts[0].id: required']);
  });

  it('names the environment variable and the field, at the reference', () => {
    const text = `auth: { tokenSecret: \${GATEWAY_TOKEN_SECRET} }\n`;
    expect(placedIssuesOf(text, {}, '/etc/gw/gateway.yaml')).toEqual(['/etc/gw/gateway.yaml:1:22: auth.tokenSecret: environment variable GATEWAY_TOKEN_SECRET is not set']);
  });
});
