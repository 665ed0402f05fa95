// The built-in sandbox districts of a config (`sandboxes[]`), started beside the gateway by the
// `serve` command, never by the gateway itself: the gateway only ever sees http(s) URLs. A
// district's `sandbox://<id>/...` URLs are rewritten to the started sandbox's address here.
import type { DistrictConfig, GatewayConfig } from './config/schema.js';
import { listenFailure } from './core/errors.js';
import type { Logger } from './observability/logger.js';
import { startSandbox, type Sandbox } from './sandbox/index.js';

const SANDBOX_URL = /^sandbox:\/\/([^/]+)(.*)$/i;

export interface SandboxHost {
  /** The config with every `sandbox://` URL pointing at a started sandbox; throws for one that is not running. */
  resolve(config: Readonly<GatewayConfig>): GatewayConfig;
  close(): Promise<void>;
}

/** Starts the config's sandboxes (a restart is needed to start others). */
export async function startSandboxes(config: Readonly<GatewayConfig>, logger: Logger): Promise<SandboxHost> {
  const running = new Map<string, Sandbox>();
  for (const [i, s] of config.sandboxes.entries()) {
    const sandbox = await startSandbox({
      version: s.version,
      auth: s.auth,
      host: s.host,
      port: s.port,
      seed: s.seed,
      users: s.users,
      latencyMs: s.latencyMs,
      ...(s.maxPageSize !== undefined ? { maxPageSize: s.maxPageSize } : {}),
    }).catch(async (err: NodeJS.ErrnoException) => {
      await Promise.allSettled([...running.values()].map((r) => r.close()));
      if (err?.syscall !== 'listen' && err?.syscall !== 'getaddrinfo') throw err;
      // A sandbox's fixed port (sandboxes[].port) taken: said as the gateway's own would be.
      const failure = listenFailure(err.code, s.host, s.port);
      failure.message = `sandboxes[${i}] (${s.id}): ${failure.message}`;
      throw failure;
    });
    running.set(s.id, sandbox);
    logger.info({ msg: 'sandbox started', sandbox: s.id, version: s.version, authType: s.auth.type, users: s.users });
  }

  function url(value: string, district: string): string {
    const m = SANDBOX_URL.exec(value);
    if (!m) return value;
    const sandbox = running.get(m[1]!);
    if (!sandbox) throw new Error(`district ${district} is on sandbox "${m[1]}", which starts only with a restart`);
    return sandbox.url + m[2];
  }

  function district(d: DistrictConfig): DistrictConfig {
    const auth = d.auth.type === 'oauth2' ? { ...d.auth, tokenUrl: url(d.auth.tokenUrl, d.id) } : d.auth;
    return { ...d, baseUrl: url(d.baseUrl, d.id), auth };
  }

  return {
    resolve: (config) => ({ ...config, districts: config.districts.map(district) }),
    async close() {
      await Promise.allSettled([...running.values()].map((s) => s.close()));
    },
  };
}
