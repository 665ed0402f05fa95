import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createClientRegistry, echoScopes, sha256Hex } from '../../src/auth/clients.js';
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

describe('credential stamps (a rotated secret ends the tokens issued under it)', () => {
  const tokens = createTokenService({ secret, ttlSeconds: 60 });
  const registry = (clientSecret: string) =>
    createClientRegistry([{ clientId: 'app', clientSecret, districts: ['*'], scopes: ['roster.readonly'] }], { stamp: tokens.credentialStamp });

  it('stamps each client from its secret: the same secret (plain or sha256) the same stamp, another secret another', () => {
    const a = registry('first-secret-value').get('app')!.credentialStamp!;
    const hashed = createClientRegistry([{ clientId: 'app', clientSecretSha256: sha256Hex('first-secret-value').toUpperCase(), districts: ['*'], scopes: ['roster.readonly'] }], {
      stamp: tokens.credentialStamp,
    });
    expect(a).toMatch(/^[\w-]{16}$/);
    expect(hashed.get('app')!.credentialStamp).toBe(a);
    expect(registry('second-secret-value').get('app')!.credentialStamp).not.toBe(a);
    // Keyed with the token secret: another gateway (or anyone without auth.tokenSecret) cannot compute it.
    expect(createTokenService({ secret: 't'.repeat(40), ttlSeconds: 60 }).credentialStamp('app', sha256Hex('first-secret-value'))).not.toBe(a);
    expect(tokens.credentialStamp('other', sha256Hex('first-secret-value'))).not.toBe(a);
  });

  it('puts the stamp in the token (never the secret digest) and hands it back from verify, memo or not', () => {
    const client = registry('first-secret-value').get('app')!;
    const { token } = tokens.issue(client.clientId, ['roster.readonly'], client.credentialStamp);
    const payload = Buffer.from(token.split('.')[1]!, 'base64url').toString();
    expect(JSON.parse(payload).cred).toBe(client.credentialStamp);
    expect(payload).not.toContain(sha256Hex('first-secret-value'));
    expect(tokens.verify(token)?.credentialStamp).toBe(client.credentialStamp);
    expect(tokens.verify(token)?.credentialStamp).toBe(client.credentialStamp);
    // A stamp of the wrong type is a malformed token, not a missing stamp.
    const [h] = token.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(payload), cred: 7 })).toString('base64url')}`;
    const signed = `${forged}.${createHmac('sha256', secret).update(forged).digest('base64url')}`;
    expect(tokens.verify(signed)).toBeUndefined();
  });
});

describe('scope echo', () => {
  const uri = (s: string) => `https://purl.imsglobal.org/spec/or/v1p2/scope/${s}`;
  it('spells each granted scope as asked; nothing asked: the short names', () => {
    const granted = ['roster.readonly', 'gradebook.readonly'] as const;
    expect(echoScopes(`${uri('roster.readonly')} ${uri('gradebook.readonly')}`, [...granted])).toBe(`${uri('roster.readonly')} ${uri('gradebook.readonly')}`);
    expect(echoScopes('gradebook.readonly   roster.readonly', [...granted])).toBe('gradebook.readonly roster.readonly');
    expect(echoScopes(`HTTP://purl.imsglobal.org/spec/or/v1p1/scope/roster.readonly gradebook.readonly roster.readonly`, [...granted])).toBe(
      'HTTP://purl.imsglobal.org/spec/or/v1p1/scope/roster.readonly gradebook.readonly',
    );
    expect(echoScopes(undefined, [...granted])).toBe('roster.readonly gradebook.readonly');
    expect(echoScopes('  ', [...granted])).toBe('roster.readonly gradebook.readonly');
  });
});
