import { describe, expect, it } from 'vitest';
import { createClientRegistry, sha256Hex } from '../../src/auth/clients.js';
import { createTokenService } from '../../src/auth/tokens.js';

const secret = 's'.repeat(40);

describe('gateway access tokens', () => {
  it('verifies its own tokens, on any instance sharing the secret, until expiry', () => {
    let now = 1_700_000_000_000;
    const a = createTokenService({ secret, ttlSeconds: 60, now: () => now });
    const b = createTokenService({ secret, ttlSeconds: 60, now: () => now });
    const { token, expiresIn } = a.issue('app', ['roster.readonly']);
    expect(expiresIn).toBe(60);
    expect(b.verify(token)).toMatchObject({ clientId: 'app', scopes: ['roster.readonly'] });
    now += 59_000;
    expect(b.verify(token)).toBeDefined();
    now += 1_000;
    expect(b.verify(token)).toBeUndefined();
  });

  it('rejects tampered, foreign and garbage tokens', () => {
    const svc = createTokenService({ secret, ttlSeconds: 60 });
    const other = createTokenService({ secret: 't'.repeat(40), ttlSeconds: 60 });
    const { token } = svc.issue('app', ['roster.readonly']);
    const [h, p, s] = token.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
    payload.scope = 'roster.readonly gradebook.delete';
    expect(svc.verify(`${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`)).toBeUndefined();
    expect(svc.verify(other.issue('app', []).token)).toBeUndefined();
    for (const junk of ['', 'a.b.c', 'x'.repeat(5000), `${h}.${p}`]) expect(svc.verify(junk)).toBeUndefined();
  });

  it('refuses a short secret at construction', () => {
    expect(() => createTokenService({ secret: 'short', ttlSeconds: 60 })).toThrow(/tokenSecret/);
  });
});

describe('client registry', () => {
  const reg = createClientRegistry([
    { clientId: 'plain', clientSecret: 'plain-secret', districts: ['a'], scopes: ['roster.readonly'] },
    { clientId: 'hashed', clientSecretSha256: sha256Hex('hashed-secret'), districts: ['*'], scopes: ['roster.readonly'] },
  ]);

  it('authenticates plain and sha256 secrets, trying each candidate', () => {
    expect(reg.authenticate('plain', ['plain-secret'])?.clientId).toBe('plain');
    expect(reg.authenticate('hashed', ['wrong', 'hashed-secret'])?.clientId).toBe('hashed');
    expect(reg.authenticate('plain', ['hashed-secret'])).toBeUndefined();
    expect(reg.authenticate('nobody', ['plain-secret'])).toBeUndefined();
  });

  it('limits districts, with * for all', () => {
    expect(reg.canSeeDistrict(reg.get('plain')!, 'a')).toBe(true);
    expect(reg.canSeeDistrict(reg.get('plain')!, 'b')).toBe(false);
    expect(reg.canSeeDistrict(reg.get('hashed')!, 'anything')).toBe(true);
  });
});
