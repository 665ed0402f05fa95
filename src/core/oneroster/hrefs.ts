// Records carry GUIDRef `href`s that point at the district's own server: absolute (in any
// case), protocol-relative (`//host/...`), root-relative, tilde-relative like Aeries'
// "~/ims/oneroster/v1p1/orgs/894", or somewhere outside the OneRoster tree altogether.
// Passing them on would expose the upstream's address and send clients around the gateway,
// so every href is re-rooted at the gateway's URL for the district, or dropped when it does
// not point into a OneRoster tree. The district's own warnings (`statusInfoSet` beside the
// data) go too: they are in the district's shape and words, and the gateway checks what
// they would warn about (sort, fields) itself.
import type { Redactor } from '../redact.js';

const ROOT_AT = /(?:^|\/)ims\/oneroster(?=\/)/i;

export interface HrefRewrite {
  /** The district's baseUrl (ends in the OneRoster root, no trailing slash). */
  upstreamBase: string;
  /** The gateway's URL for the district's OneRoster root, e.g. https://gw/districts/x/ims/oneroster. */
  gatewayBase: string;
  /** Replaces the district's secrets and addresses left in any other string (and in a re-rooted href's tail). */
  redactor?: Redactor;
}

/** The gateway's form of an href, or undefined when it points nowhere in a OneRoster tree. */
export function rewriteHref(href: string, r: HrefRewrite): string | undefined {
  const s = href.trim();
  let rest: string | undefined;
  if (s.length >= r.upstreamBase.length && s.slice(0, r.upstreamBase.length).toLowerCase() === r.upstreamBase.toLowerCase()) {
    rest = s.slice(r.upstreamBase.length);
    if (rest !== '' && !rest.startsWith('/')) rest = undefined;
  }
  if (rest === undefined) {
    const m = ROOT_AT.exec(s);
    if (!m) return undefined;
    rest = s.slice(m.index + m[0].length);
  }
  // Only a path below the root: a fragment or a query that may name the district goes too.
  rest = rest.replace(/[?#].*$/s, '');
  // A dot segment (`/../../districts/other`, `%2e%2e`) or a backslash would climb out of the
  // district's root once a client resolves the URL: such an href points nowhere it may.
  if (/\\/.test(rest) || rest.split('/').some((seg) => /^(?:\.|%2e){1,2}$/i.test(seg))) return undefined;
  if (r.redactor?.test(rest)) return undefined;
  return r.gatewayBase + rest;
}

function rewriteValue(s: string, r: HrefRewrite): string {
  const lower = s.slice(0, r.upstreamBase.length).toLowerCase();
  if (lower === r.upstreamBase.toLowerCase()) {
    const to = rewriteHref(s, r);
    if (to !== undefined) return to;
  }
  return r.redactor ? r.redactor.redact(s) : s;
}

/**
 * Rewrites in place; returns whether anything changed. `dirty`: the body is known to hold
 * something of the district's (secrets, hosts, paths) outside hrefs, so every string is
 * redacted too (callers test the raw text first, so clean pages skip that work).
 */
export function rewriteHrefs(value: unknown, r: HrefRewrite, dirty = r.redactor !== undefined): boolean {
  let changed = false;
  if (value && typeof value === 'object' && !Array.isArray(value) && 'statusInfoSet' in value) {
    delete (value as Record<string, unknown>).statusInfoSet;
    changed = true;
  }
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const v = node[i];
        if (typeof v === 'string') {
          if (!dirty && !v.startsWith(r.upstreamBase)) continue;
          const next = rewriteValue(v, r);
          if (next !== v) (node[i] = next), (changed = true);
        } else if (v && typeof v === 'object') walk(v);
      }
    } else if (node && typeof node === 'object') {
      const o = node as Record<string, unknown>;
      for (const k of Object.keys(o)) {
        const v = o[k];
        if (k === 'href' && typeof v === 'string') {
          const next = rewriteHref(v, r);
          if (next === undefined) (delete o[k], (changed = true));
          else if (next !== v) (o[k] = next), (changed = true);
        } else if (typeof v === 'string') {
          if (!dirty && !v.startsWith(r.upstreamBase)) continue;
          const next = rewriteValue(v, r);
          if (next !== v) (o[k] = next), (changed = true);
        } else if (v && typeof v === 'object') walk(v);
        if (dirty && r.redactor && r.redactor.test(k)) {
          // A key naming the district (a vendor's map keyed by URL): the key goes, not just its value.
          delete o[k];
          changed = true;
        }
      }
    }
  };
  walk(value);
  return changed;
}
