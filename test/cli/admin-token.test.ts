import { describe, expect, it } from 'vitest';
import { generatedAdminToken } from '../../src/cli/admin-token.js';
import { parseConfig } from '../../src/config/load.js';

const config = (admin: string) => parseConfig(`auth: { tokenSecret: "${'x'.repeat(40)}" }\n${admin}`, {}, 't');

function stderr() {
  let text = '';
  return { write: (s: string) => (text += s), text: () => text };
}

describe('the generated admin token', () => {
  it('is made once per process, printed once, and kept by every config serve runs (reloads too)', () => {
    const err = stderr();
    const withToken = generatedAdminToken(err);
    const first = withToken(config('admin: { generateToken: true }'));
    const reloaded = withToken(config('admin: { token: "", generateToken: true }'));
    const token = first.admin!.token!;
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(reloaded.admin!.token).toBe(token);
    expect(err.text()).toBe(`oneroster-gateway: demo admin token: ${token}   (made at start, printed once; set GATEWAY_ADMIN_TOKEN to choose it)\n`);
  });

  it('differs from one process to the next', () => {
    const a = generatedAdminToken(stderr())(config('admin: { generateToken: true }')).admin!.token;
    const b = generatedAdminToken(stderr())(config('admin: { generateToken: true }')).admin!.token;
    expect(a).not.toBe(b);
  });

  it('leaves a config with a token, a tokenSha256 or no admin block as it is, and prints nothing', () => {
    const err = stderr();
    const withToken = generatedAdminToken(err);
    for (const c of [config(''), config(`admin: { token: ${'t'.repeat(30)}, generateToken: true }`), config(`admin: { tokenSha256: ${'a'.repeat(64)}, generateToken: true }`)]) {
      expect(withToken(c)).toBe(c);
    }
    expect(err.text()).toBe('');
  });
});
