// What a district says must not tell a client where the district lives or how the gateway
// signs in to it. District error bodies quote their own bearer tokens, consumer keys, hosts
// (with and without port, in any case) and vendor paths; 200 pages carry them in hrefs,
// metadata and the district's own warnings. A Redactor knows one district's secrets and
// addresses and replaces them wherever they appear.
import { lowerAscii } from './ascii.js';

export interface RedactorSource {
  /**
   * Credentials the gateway holds for the district, static and current (an OAuth2 access
   * token changes over time, so this is asked again on each use; it must be cheap). Redacted
   * wherever they appear: no record legitimately holds one.
   */
  secrets(): readonly string[];
  /**
   * The gateway's account names at the district (OAuth1 consumer key, OAuth2 client id):
   * redacted from error text, not from records, where a human-chosen id may be ordinary data.
   */
  identifiers?: () => readonly string[];
  /** The district's hosts: `host` or `host:port` (IPv6 in brackets), as in its URLs. */
  hosts: readonly string[];
  /** Paths of the district's server that are not OneRoster's own (a vendor prefix such as `/aeries`). */
  paths: readonly string[];
}

export interface Redactor {
  /** True when `text` holds anything `redact` would replace (a fast pre-check for large bodies). */
  test(text: string): boolean;
  /**
   * False only when `bytes` (UTF-8) certainly hold nothing `redact` would replace outside the
   * occurrences of `except` (the gateway's own root, which may share the district's host):
   * a byte search, in any case, for each credential, host and path, with no decoding. True
   * means "look closer" (test() on the text). `known`: [start, end) pairs of `bytes` where
   * `except` is known to stand (a page the gateway just re-rooted), passed over without a search.
   * It reads bytes as they are: JSON escapes (`\/`, `\u0073`) are the caller's to decode first.
   * One case it lets pass that test() on text with `except` removed would not: a host split in
   * two around the gateway's root, which is not the district's address as the client reads it.
   */
  mayHold(bytes: Buffer, except?: string, known?: readonly number[]): boolean;
  /** Data (a 200 body's strings): every credential, host and path of the district replaced. */
  redact(text: string): string;
  /** Error text: the same, and the gateway's account names at the district too. */
  redactText(text: string): string;
}

/** Shorter strings would match ordinary words; no real credential is this short. */
const MIN_SECRET_LENGTH = 6;

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

function variants(secret: string): string[] {
  // As sent on the wire too: form- and percent-encoded, and base64 (HTTP Basic of id:secret
  // is not recoverable here, but a token quoted in base64 is).
  const out = new Set([secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64').replace(/=+$/, '')]);
  return [...out].filter((v) => v.length >= MIN_SECRET_LENGTH);
}

/** `host:port` and bare `host` of each address, IPv6 with and without brackets. */
function hostVariants(host: string): string[] {
  const out = new Set<string>();
  const h = host.toLowerCase();
  out.add(h);
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(h);
  if (m) {
    out.add(m[1]!);
    if (m[1]!.startsWith('[')) out.add(m[1]!.slice(1, -1));
  }
  return [...out].filter((v) => v.length >= 3);
}

/** A literal alternation, longest first (a token over its prefix), or undefined when empty. */
function literals(list: readonly string[]): RegExp | undefined {
  return alternation([...new Set(list.flatMap(variants))]);
}

function alternation(words: readonly string[]): RegExp | undefined {
  const parts = [...words].sort((a, b) => b.length - a.length).map(escape);
  return parts.length === 0 ? undefined : new RegExp(parts.join('|'), 'g');
}

export function createRedactor(source: RedactorSource): Redactor {
  if (!source || typeof source.secrets !== 'function') throw new TypeError('createRedactor: secrets() is required');
  const hosts = [...new Set(source.hosts.flatMap(hostVariants))].sort((a, b) => b.length - a.length);
  const paths = [...new Set(source.paths.filter((p) => p.length > 1 && p !== '/'))].sort((a, b) => b.length - a.length);
  // Hosts and paths in any case (DNS names and most vendor servers ignore it). A host only
  // where it is not part of a longer name (`sis.example.org` inside `mysis.example.org.x`),
  // with the vendor path that follows it. A path alone only as a whole path: where a path
  // starts (not inside another server's URL: `cdn.example/API` is not the district's `/api`)
  // and not as the head of a longer segment (`/apiary`).
  const pathAlt = paths.map(escape).join('|');
  const pathEnd = '(?![A-Za-z0-9_-])';
  const addressParts = [
    ...hosts.map((h) => `(?<![A-Za-z0-9-])${escape(h)}(?![A-Za-z0-9-]|\\.[A-Za-z0-9])${pathAlt ? `(?:(?:${pathAlt})${pathEnd})?` : ''}`),
    ...(pathAlt ? [`(?<=^|[\\s"'(=,;<>]|\\[redacted\\])(?:${pathAlt})${pathEnd}`] : []),
  ];
  const addresses = addressParts.length === 0 ? undefined : new RegExp(addressParts.join('|'), 'gi');
  let key: string | undefined;
  let secrets: RegExp | undefined;
  // The same credentials as bytes, for mayHold.
  let secretBytes: Buffer[] = [];
  let idKey: string | undefined;
  let ids: RegExp | undefined;

  /** Credentials match exactly (case matters in a token); rebuilt only when they change. */
  function secretPattern(): RegExp | undefined {
    const list = source.secrets().filter((s) => typeof s === 'string');
    const k = list.join('\u0000');
    if (k !== key) {
      const words = [...new Set(list.flatMap(variants))];
      [key, secrets, secretBytes] = [k, alternation(words), words.map((w) => Buffer.from(w, 'utf8'))];
    }
    return secrets;
  }
  function idPattern(): RegExp | undefined {
    const list = (source.identifiers?.() ?? []).filter((s) => typeof s === 'string');
    const k = list.join('\u0000');
    if (k !== idKey) [idKey, ids] = [k, literals(list)];
    return ids;
  }

  // Hosts and paths as lower-case bytes for mayHold; one that is not ASCII cannot be matched in
  // any case by a byte search, so its presence is never ruled out (mayHold says true).
  const addressBytes = [...hosts, ...paths].map((a) => Buffer.from(a.toLowerCase(), 'utf8'));
  const caseless = [...hosts, ...paths].every((a) => /^[\x00-\x7f]*$/.test(a));
  function redact(text: string): string {
    const s = secretPattern();
    let out = s ? text.replace(s, '[redacted]') : text;
    if (addresses) out = out.replace(addresses, '[redacted]');
    return out;
  }

  return {
    test(text) {
      const s = secretPattern();
      if (s) {
        s.lastIndex = 0;
        if (s.test(text)) return true;
      }
      if (!addresses) return false;
      addresses.lastIndex = 0;
      return addresses.test(text);
    },
    mayHold(bytes, except, known) {
      // Brings secretBytes up to date with the current credentials.
      secretPattern();
      for (const s of secretBytes) if (bytes.indexOf(s) >= 0) return true;
      if (addressBytes.length === 0) return false;
      if (!caseless) return true;
      const lower = lowerAscii(bytes, known);
      const skip = except === undefined ? undefined : { lower: Buffer.from(except.toLowerCase(), 'utf8'), exact: Buffer.from(except, 'utf8') };
      for (const needle of addressBytes) {
        for (let at = lower.indexOf(needle); at >= 0; at = lower.indexOf(needle, at + 1)) if (!skip || !within(bytes, at, needle, skip)) return true;
      }
      return false;
    },
    redact,
    redactText(text) {
      const i = idPattern();
      return redact(i ? text.replace(i, '[redacted]') : text);
    },
  };
}

/**
 * The match of `needle` at `at` (found in the lower-case copy of `text`) lies inside an
 * occurrence of `outer` written exactly so in `text`, as test()'s callers set it aside.
 */
function within(text: Buffer, at: number, needle: Buffer, outer: { lower: Buffer; exact: Buffer }): boolean {
  const len = outer.exact.length;
  for (let o = outer.lower.indexOf(needle); o >= 0; o = outer.lower.indexOf(needle, o + 1)) {
    const start = at - o;
    if (start >= 0 && start + len <= text.length && text.compare(outer.exact, 0, len, start, start + len) === 0) return true;
  }
  return false;
}

/** A redactor that knows nothing (districts built without one, tools). */
export const NO_REDACTION: Redactor = { test: () => false, mayHold: () => false, redact: (t) => t, redactText: (t) => t };

// Things no client should see in an error text from any district: URLs, authorization
// values, OAuth parameters and secrets written as name=value, IP addresses.
const GENERIC: Array<[RegExp, string]> = [
  [/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, '[url]'],
  [/(?<![A-Za-z0-9])\/\/[A-Za-z0-9.-]+(?::\d+)?(?:\/\S*)?/g, '[url]'],
  [/\b(Bearer|Basic|Digest|OAuth)\s+[^\s,;]{6,}/gi, '$1 [redacted]'],
  [/\b(oauth_[a-z_]+)\s*=\s*"?[^",&\s]*"?/gi, '$1=[redacted]'],
  [
    /\b(client_secret|client_id|consumer_?key|consumer_?secret|access_token|refresh_token|id_token|token|password|passwd|secret|api[_-]?key|authorization)(["']?\s*[:=]\s*)("[^"]*"|'[^']*'|[^\s,;&}]+)/gi,
    '$1$2[redacted]',
  ],
  [/(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?(?![\d.])/g, '[host]'],
  [/\[[0-9a-f:]*:[0-9a-f:]*\](?::\d{1,5})?/gi, '[host]'],
];

/**
 * A district's error description as a client may read it: the district's own secrets,
 * hosts and paths, then anything that looks like an address or a credential, replaced;
 * control characters flattened; bounded in length.
 */
export function redactDescription(text: string, redactor: Redactor, maxLength = 300): string {
  let out = redactor.redactText(text);
  for (const [re, to] of GENERIC) out = out.replace(re, to);
  // eslint-disable-next-line no-control-regex
  out = out.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return out.length > maxLength ? `${out.slice(0, maxLength)}…` : out;
}
