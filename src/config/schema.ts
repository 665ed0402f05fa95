// The whole config file: its sections (schema-*.ts) and the checks that span them.
import { z } from 'zod';
import { authSchema, type clientSchema, type rateSchema } from './schema-auth.js';
import { cacheSchema } from './schema-cache.js';
import { CLASSLINK_PREFIX, classlinkSchema, districtSchema, sandboxSchema, type upstreamAuthSchema, type upstreamOptionsSchema } from './schema-districts.js';
import { adminSchema, metricsSchema, serverSchema } from './schema-server.js';
import { mirrorSchema } from './schema-mirror.js';
import { syncSchema } from './schema-sync.js';

export { authSchema } from './schema-auth.js';
export { cacheSchema } from './schema-cache.js';
export { CLASSLINK_PREFIX, classlinkSchema, districtSchema, sandboxSchema, upstreamAuthSchema, upstreamOptionsSchema } from './schema-districts.js';
export { adminSchema, metricsSchema, serverSchema } from './schema-server.js';
export { mirrorSchema } from './schema-mirror.js';
export { syncSchema } from './schema-sync.js';

export const configSchema = z
  .strictObject({
    server: serverSchema.prefault({}),
    auth: authSchema,
    // The operators' credential for /admin (cache purge, sync now). No block: no admin API.
    admin: adminSchema.optional(),
    cache: cacheSchema.prefault({}),
    mirror: mirrorSchema.prefault({}),
    sync: syncSchema.prefault({}),
    districts: z.array(districtSchema).default([]),
    classlink: classlinkSchema.optional(),
    metrics: metricsSchema.prefault({}),
    sandboxes: z.array(sandboxSchema).default([]),
  })
  .superRefine((cfg, ctx) => {
    if (cfg.metrics.enabled && cfg.metrics.auth === 'admin' && !cfg.admin) {
      ctx.addIssue({ code: 'custom', path: ['metrics', 'auth'], message: 'admin needs an admin block (admin.token or admin.tokenSha256)' });
    }
    const adminPort = cfg.admin?.listen?.port;
    if (adminPort !== undefined && adminPort !== 0 && adminPort === cfg.server.port) {
      ctx.addIssue({ code: 'custom', path: ['admin', 'listen', 'port'], message: `must differ from server.port (${cfg.server.port})` });
    }
    const ids = new Set<string>();
    cfg.districts.forEach((d, i) => {
      if (cfg.classlink && d.id.startsWith(CLASSLINK_PREFIX)) {
        ctx.addIssue({ code: 'custom', path: ['districts', i, 'id'], message: `ids starting "${CLASSLINK_PREFIX}" are for ClassLink tenants` });
      }
      if (ids.has(d.id)) ctx.addIssue({ code: 'custom', path: ['districts', i, 'id'], message: `duplicate district id "${d.id}"` });
      ids.add(d.id);
    });
    const sandboxIds = new Set(cfg.sandboxes.map((s) => s.id));
    cfg.districts.forEach((d, i) => {
      const urls: Array<[string, string]> = [['baseUrl', d.baseUrl]];
      if (d.auth.type === 'oauth2') urls.push(['auth.tokenUrl', d.auth.tokenUrl]);
      for (const [field, url] of urls) {
        const m = /^sandbox:\/\/([^/]+)/i.exec(url);
        if (m && !sandboxIds.has(m[1]!)) {
          ctx.addIssue({ code: 'custom', path: ['districts', i, ...field.split('.')], message: `no sandbox with id "${m[1]}"` });
        }
      }
    });
    const clientIds = new Set<string>();
    cfg.auth.clients.forEach((c, i) => {
      if (clientIds.has(c.clientId)) ctx.addIssue({ code: 'custom', path: ['auth', 'clients', i, 'clientId'], message: `duplicate clientId "${c.clientId}"` });
      clientIds.add(c.clientId);
      c.districts.forEach((d, j) => {
        if (d.includes('*')) {
          if (!/^[a-z0-9-]*\*$/.test(d)) ctx.addIssue({ code: 'custom', path: ['auth', 'clients', i, 'districts', j], message: 'a pattern is "*" or a prefix ending in "*", e.g. "classlink-*"' });
          return;
        }
        // Discovered districts are not known yet at start-up.
        if (cfg.classlink && d.startsWith(CLASSLINK_PREFIX)) return;
        if (!ids.has(d)) {
          ctx.addIssue({ code: 'custom', path: ['auth', 'clients', i, 'districts', j], message: `unknown district "${d}"` });
        }
      });
    });
  });

export type GatewayConfig = z.infer<typeof configSchema>;
export type DistrictConfig = z.infer<typeof districtSchema>;
export type UpstreamAuthConfig = z.infer<typeof upstreamAuthSchema>;
export type UpstreamOptions = z.infer<typeof upstreamOptionsSchema>;
export type ClientConfig = z.infer<typeof clientSchema>;
export type SandboxConfig = z.infer<typeof sandboxSchema>;
export type CacheConfig = z.infer<typeof cacheSchema>;
export type AdminConfig = z.infer<typeof adminSchema>;
export type MirrorConfig = z.infer<typeof mirrorSchema>;
export type SyncConfig = z.infer<typeof syncSchema>;
export type ClassLinkConfig = z.infer<typeof classlinkSchema>;
export type RateConfig = z.infer<typeof rateSchema>;
export type RetryConfig = UpstreamOptions['retry'];
export type BreakerConfig = UpstreamOptions['breaker'];
