import { basename, dirname, relative } from 'node:path';
import type { GatewayConfig, RateConfig } from '../config/schema.js';
import { formatTable } from './table.js';

// What check-config prints. It reads only fields that hold no secret: credentials are
// named by their kind (auth type, "admin: yes"), URLs are cut to their origin, and a
// Redis URL's password is masked.

/** scheme://host[:port] of a URL, without user info, path or query. */
export function originOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '(not a URL)';
  }
}

/** host[:port] of a URL: no scheme, user info, path or query. */
export function hostOf(url: string): string {
  try {
    return new URL(url).host || '(no host)';
  } catch {
    return '(not a URL)';
  }
}

/** A redis:// URL with its password and every query value masked. */
export function redactStoreUrl(store: string): string {
  if (store === 'memory') return store;
  try {
    const u = new URL(store);
    if (u.password) u.password = '***';
    for (const key of [...u.searchParams.keys()]) u.searchParams.set(key, '***');
    return u.href.replace(/%2A%2A%2A/g, '***');
  } catch {
    return '(not a URL)';
  }
}

function rate(r: (RateConfig & { hitCost?: number }) | undefined): string {
  if (!r) return 'none';
  return [`${r.requestsPerSecond}/s`, r.burst !== undefined ? `burst ${r.burst}` : '', r.hitCost ? `hitCost ${r.hitCost}` : '']
    .filter(Boolean)
    .join(' ');
}

/** One line per district (where it was read from: the main file or a districtsDir file), then a total. */
function districtLines(file: string, c: Readonly<GatewayConfig>, districtFiles: readonly string[]): string[] {
  const from = (i: number) => {
    const f = districtFiles[i] ?? file;
    return f === file ? basename(file) : relative(dirname(file), f);
  };
  const mirrored = c.districts.filter((d) => d.mirror.enabled).length;
  const fromDir = c.districts.filter((_, i) => (districtFiles[i] ?? file) !== file).length;
  return [
    formatTable(
      ['id', 'version', 'auth', 'host', 'mirror', 'from', 'name'],
      c.districts.map((d, i) => [d.id, d.version, d.auth.type, hostOf(d.baseUrl), d.mirror.enabled ? 'on' : 'off', from(i), d.name ?? '']),
      '  ',
    ),
    `total: ${c.districts.length} district${c.districts.length === 1 ? '' : 's'}, ${mirrored} mirrored, ${c.districts.length - fromDir} from ${basename(file)}, ${fromDir} from districtsDir`,
  ];
}

export function summarizeConfig(file: string, c: Readonly<GatewayConfig>, districtFiles: readonly string[] = []): string {
  const out: string[] = [];
  out.push(`config: ${file} (valid)`);
  out.push(`server: host ${c.server.host}, port ${c.server.port}, publicUrl ${c.server.publicUrl ?? '(request host)'}`);
  out.push(`cache: store ${redactStoreUrl(c.cache.store)}, ttl ${c.cache.ttlSeconds}s, stale ${c.cache.staleSeconds}s, memory ${c.cache.maxMemoryBytes} bytes`);
  const ds = c.cache.deltaSync;
  out.push(`delta sync: ${ds.enabled ? `on, every ${ds.intervalSeconds}s, overlap ${ds.overlapSeconds}s, page size ${ds.pageSize}` : 'off'}`);
  out.push(`background: at most ${c.sync.maxBackgroundConcurrency} upstream requests at once (delta polls, mirror pulls)`);
  out.push(`districts: ${c.districts.length}`);
  if (c.districts.length > 0) out.push(...districtLines(file, c, districtFiles));
  if (c.classlink) {
    const cl = c.classlink;
    const tenants = Object.keys(cl.tenants).length;
    out.push(`classlink: mode ${cl.mode}, version ${cl.version}, refresh ${cl.refreshSeconds}s, discovery ${originOf(cl.discoveryUrl)}${tenants ? `, ${tenants} tenant overrides` : ''}`);
  } else {
    out.push('classlink: none');
  }
  out.push(`clients: ${c.auth.clients.length} (token ttl ${c.auth.tokenTtlSeconds}s)`);
  if (c.auth.clients.length > 0) {
    out.push(
      formatTable(
        ['id', 'districts', 'scopes', 'rateLimit'],
        c.auth.clients.map((cl) => [cl.clientId, cl.districts.join(','), cl.scopes.join(' '), rate(cl.rateLimit)]),
        '  ',
      ),
    );
  }
  out.push(`metrics: ${c.metrics.enabled ? `on, auth ${c.metrics.auth}${c.metrics.perDistrictHistograms ? ', per-district histograms' : ''}` : 'off'}`);
  out.push(`admin: ${!c.admin ? 'no' : c.admin.token || c.admin.tokenSha256 ? 'yes' : 'yes (token generated at start: GATEWAY_ADMIN_TOKEN unset)'}`);
  if (c.sandboxes.length > 0) out.push(`sandboxes: ${c.sandboxes.map((s) => `${s.id} (${s.version}, ${s.users} users)`).join(', ')}`);
  return out.join('\n');
}
