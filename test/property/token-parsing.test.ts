// Fuzzing the gateway's access tokens and the Authorization header: garbage, damaged,
// foreign, forged and expired tokens are refused without an exception; only the token as
// issued, in a well-formed Bearer header, is accepted.
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createClientRegistry } from '../../src/auth/clients.js';
import { createTokenService } from '../../src/auth/tokens.js';
import { GatewayError } from '../../src/core/errors.js';
import { SCOPES, type Scope } from '../../src/core/oneroster/scopes.js';
import { bearerVerifier } from '../../src/http/bearer-auth.js';
import { anyText } from './arbitraries.js';

const SECRET = 'fuzz-token-secret-0123456789abcdefghij';
const T0 = 1_700_000_000_000;
let now = T0;
const tokens = createTokenService({ secret: SECRET, ttlSeconds: 600, now: () => now });
const clientIds = fc.stringMatching(/^[A-Za-z0-9._~-]{1,24}$/);
const scopes = fc.subarray([...SCOPES] as Scope[]);
const issued = fc.tuple(clientIds, scopes).map(([id, s]) => tokens.issue(id, s).token);

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64url');

/** One way of damaging a token; `apply` returns the damaged text. */
const mutation = fc.oneof(
  // A bit flipped in the bytes of one segment, re-encoded.
  fc.record({ seg: fc.nat({ max: 2 }), byte: fc.nat(), bit: fc.nat({ max: 7 }) }).map((m) => (t: string) => {
    const parts = t.split('.');
    const bytes = Buffer.from(parts[m.seg] ?? '', 'base64url');
    if (bytes.length === 0) return t;
    bytes[m.byte % bytes.length]! ^= 1 << m.bit;
    parts[m.seg] = bytes.toString('base64url');
    return parts.join('.');
  }),
  // One character replaced, anywhere (the signature's last character included).
  fc.record({ at: fc.nat(), ch: fc.oneof(fc.constantFrom(...B64URL), fc.constantFrom('+', '/', '=', '.', ' ', '%', '\u0000', 'é')) }).map((m) => (t: string) => {
    const at = m.at % (t.length + 1);
    return t.slice(0, at) + m.ch + t.slice(at + 1);
  }),
  fc.nat().map((n) => (t: string) => t.slice(0, n % (t.length + 1))),
  fc.constantFrom('=', '==', '.', 'A', '.x', ' x', '\u0000').map((s) => (t: string) => t + s),
  fc.constantFrom('=', '.', ' ').map((s) => (t: string) => s + t),
  // Segments swapped, dropped, duplicated.
  fc.constantFrom([1, 0, 2], [0, 2, 1], [2, 1, 0], [0, 1], [1, 2], [0, 1, 1, 2], [0, 0, 2], [0, 1, 2, 2]).map((order) => (t: string) => {
    const parts = t.split('.');
    return order.map((i) => parts[i]).join('.');
  }),
  // The other base64 alphabet, padding, or case changes in one segment.
  fc.nat({ max: 2 }).map((seg) => (t: string) => {
    const parts = t.split('.');
    if (parts[seg] === undefined) return t;
    parts[seg] = parts[seg]!.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (parts[seg]!.length % 4)) % 4 || 1);
    return parts.join('.');
  }),
  fc.tuple(fc.nat({ max: 2 }), fc.nat()).map(([seg, at]) => (t: string) => {
    const parts = t.split('.');
    const s = parts[seg];
    if (!s) return t;
    const i = at % s.length;
    const c = s[i]!;
    parts[seg] = s.slice(0, i) + (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()) + s.slice(i + 1);
    return parts.join('.');
  }),
  // The signature's last character with its spare low bits changed (same decoded bytes).
  fc.nat({ max: 3 }).map((spare) => (t: string) => {
    const i = B64URL.indexOf(t.at(-1) ?? '');
    return i < 0 ? t : t.slice(0, -1) + B64URL[(i & ~3) | spare];
  }),
);

describe('token verification', () => {
  it('refuses arbitrary text without throwing', () => {
    const shaped = fc.tuple(anyText, anyText, anyText).map((p) => p.join('.'));
    const headerDot = fc.tuple(anyText, anyText).map(([p, s]) => `${b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${p}.${s}`);
    fc.assert(
      fc.property(fc.oneof(anyText, shaped, headerDot, fc.constant('x'.repeat(100_000))), (text) => tokens.verify(text) === undefined),
      { numRuns: 2000 },
    );
  });

  it('refuses every damaged spelling of a valid token (regression: signature spellings decoding to the same bytes passed)', () => {
    fc.assert(
      fc.property(issued, fc.array(mutation, { minLength: 1, maxLength: 3 }), (token, ms) => {
        const damaged = ms.reduce((t, m) => m(t), token);
        return damaged === token ? tokens.verify(damaged) !== undefined : tokens.verify(damaged) === undefined;
      }),
      { numRuns: 2000 },
    );
    // The examples the property first found: the same signature bytes in other spellings.
    const token = tokens.issue('app', ['roster.readonly']).token;
    const sig = token.split('.')[2]!;
    const last = B64URL.indexOf(sig.at(-1)!);
    for (const variant of [`${token}=`, token.slice(0, -1) + B64URL[last ^ 1], token.replace(/-/g, '+').replace(/_/g, '/')]) {
      if (variant !== token) expect(tokens.verify(variant)).toBeUndefined();
    }
  });

  it('refuses tokens of another secret, and every token once expired', () => {
    const otherSecret = fc.string({ minLength: 32, maxLength: 64 }).filter((s) => s !== SECRET);
    fc.assert(
      fc.property(otherSecret, clientIds, scopes, fc.integer({ min: 0, max: 2_000_000 }), (secret, id, s, later) => {
        now = T0;
        const foreign = createTokenService({ secret, ttlSeconds: 600, now: () => now }).issue(id, s).token;
        const own = tokens.issue(id, s).token;
        const ok = tokens.verify(foreign) === undefined && tokens.verify(own)?.clientId === id;
        now = T0 + later;
        const live = tokens.verify(own) !== undefined;
        now = T0;
        return ok && live === later < 600_000;
      }),
      { numRuns: 300 },
    );
  });

  it('reads the claims of correctly signed payloads strictly: wrong types or unknown scopes are refused, never thrown', () => {
    const header = b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
    const claim = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.string(), fc.integer(), fc.double(), fc.constantFrom('oneroster-gateway', 'roster.readonly', 'roster.readonly  gradebook.delete', '__proto__'));
    const payload = fc.oneof(
      fc.record({ iss: claim, sub: claim, scope: claim, iat: claim, exp: claim, jti: claim }, { requiredKeys: [] }).map((p) => JSON.stringify(p)),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      anyText,
    );
    fc.assert(
      fc.property(payload, (p) => {
        const input = `${header}.${b64(p)}`;
        const token = `${input}.${b64(createHmac('sha256', SECRET).update(input).digest())}`;
        const claims = tokens.verify(token);
        if (claims === undefined) return true;
        const body = JSON.parse(p) as Record<string, unknown>;
        return (
          body.iss === 'oneroster-gateway' && typeof body.sub === 'string' && typeof body.jti === 'string' &&
          typeof body.iat === 'number' && typeof body.exp === 'number' && now < body.exp * 1000 &&
          claims.scopes.every((s) => (SCOPES as readonly string[]).includes(s))
        );
      }),
      { numRuns: 1000 },
    );
    // Regression: a signed `null` or number payload threw a TypeError (a 500 at the bearer check).
    for (const p of ['null', '0', '"x"', '[]']) {
      const input = `${header}.${b64(p)}`;
      expect(tokens.verify(`${input}.${b64(createHmac('sha256', SECRET).update(input).digest())}`)).toBeUndefined();
    }
  });
});

describe('Authorization header (bearer-auth)', () => {
  const clients = createClientRegistry([{ clientId: 'app', clientSecret: 'app-secret-value', districts: ['*'], scopes: ['roster.readonly'] }]);
  const verify = bearerVerifier({ tokens, clients });
  const good = tokens.issue('app', ['roster.readonly', 'gradebook.delete']).token;
  const gone = tokens.issue('removed-client', ['roster.readonly']).token;

  const header = fc.record({
    scheme: fc.constantFrom('Bearer', 'bearer', 'BEARER', 'Basic', 'Token', 'Bearer:', '', 'Bearer,'),
    sep: fc.constantFrom(' ', '  ', '\t', '', ' \t', ':'),
    token: fc.oneof(
      { weight: 3, arbitrary: fc.constant(good) },
      fc.constant(gone),
      fc.array(mutation, { minLength: 1, maxLength: 2 }).map((ms) => ms.reduce((t, m) => m(t), good)),
      anyText,
    ),
    trail: fc.constantFrom('', ' ', '\t', '  \t', '\n', ' x', ',', `, Bearer ${good}`, '"'),
    lead: fc.constantFrom('', '', '', ' '),
  });

  it('accepts only "Bearer <the issued token>" (any scheme case, spaces after), else 401 invalid_token with a challenge', () => {
    fc.assert(
      fc.property(fc.oneof(header, anyText.map((t) => ({ scheme: '', sep: '', token: t, trail: '', lead: '' }))), (h) => {
        const text = `${h.lead}${h.scheme}${h.sep}${h.token}${h.trail}`;
        // "Bearer" in any case, spaces, exactly the issued token, nothing after it but whitespace.
        const m = /^bearer +(.*)$/is.exec(text);
        const expected = m !== null && m[1]!.replace(/\s+$/, '') === good;
        try {
          const who = verify(text);
          // A scope the client no longer holds is dropped from the token's.
          return expected && who.client.clientId === 'app' && who.scopes.join(' ') === 'roster.readonly';
        } catch (e) {
          return (
            !expected && e instanceof GatewayError && e.code === 'invalid_token' && e.status === 401 &&
            /^Bearer realm="oneroster-gateway"/.test(e.headers['www-authenticate'] ?? '')
          );
        }
      }),
      { numRuns: 2000 },
    );
    for (const missing of [undefined, null, '']) expect(() => verify(missing)).toThrow(GatewayError);
  });
});
