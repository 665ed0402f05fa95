// Records carry GUIDRef `href`s that point at the district's own server (absolute, or
// tilde-relative like Aeries' "~/ims/oneroster/v1p1/orgs/894"). Passing them on would
// expose the upstream's address and send clients around the gateway, so every href into a
// OneRoster tree is re-rooted at the gateway's URL for the district.

const ROOT = '/ims/oneroster';

export interface HrefRewrite {
  /** The district's baseUrl (ends in the OneRoster root, no trailing slash). */
  upstreamBase: string;
  /** The gateway's URL for the district's OneRoster root, e.g. https://gw/districts/x/ims/oneroster. */
  gatewayBase: string;
}

function rewriteString(s: string, isHref: boolean, r: HrefRewrite): string {
  if (s.startsWith(r.upstreamBase)) return r.gatewayBase + s.slice(r.upstreamBase.length);
  if (!isHref) return s;
  if (s.startsWith('~/')) {
    const at = s.indexOf(ROOT);
    return at >= 0 ? r.gatewayBase + s.slice(at + ROOT.length) : s;
  }
  if (/^https?:\/\//i.test(s)) {
    const at = s.indexOf(`${ROOT}/`);
    return at >= 0 ? r.gatewayBase + s.slice(at + ROOT.length) : s;
  }
  return s;
}

/** Rewrites in place; returns whether anything changed. */
export function rewriteHrefs(value: unknown, r: HrefRewrite): boolean {
  let changed = false;
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const v = node[i];
        if (typeof v === 'string') {
          const next = rewriteString(v, false, r);
          if (next !== v) (node[i] = next), (changed = true);
        } else walk(v);
      }
    } else if (node && typeof node === 'object') {
      const o = node as Record<string, unknown>;
      for (const k of Object.keys(o)) {
        const v = o[k];
        if (typeof v === 'string') {
          const next = rewriteString(v, k === 'href', r);
          if (next !== v) (o[k] = next), (changed = true);
        } else walk(v);
      }
    }
  };
  walk(value);
  return changed;
}
