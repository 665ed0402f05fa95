import { defineCommand, PROGRAM } from './command.js';
import { loadConfig } from './config-file.js';

/**
 * The address to ask for a listener bound to `host`: a wildcard bind is asked on loopback (a
 * container's health check runs inside it), any other host as it is, IPv6 in brackets.
 */
export function probeHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '[::1]';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

export const healthcheckCommand = defineCommand({
  name: 'healthcheck',
  summary: "ask the configured listener's /healthz (a container's HEALTHCHECK)",
  usage: `usage: ${PROGRAM} healthcheck [--config FILE] [--timeout MS]

Reads the config as serve does (--config, else GATEWAY_CONFIG, else the bundled
gateway.example.yaml; PORT overrides server.port) and asks GET /healthz on the address the
gateway listens on (0.0.0.0 and :: are asked on loopback). Exit 0 when it answers 200 within
--timeout (default 3000 ms), else 1 with the reason on stderr. The Dockerfile's HEALTHCHECK.`,
  args: { strings: ['config', 'timeout'] },
  async run(args, io) {
    const timeoutMs = args.int('timeout', 3000, 100, 60_000);
    const { config } = loadConfig(args.string('config'), io);
    const url = `http://${probeHost(config.server.host)}:${config.server.port}/healthz`;
    const fetchImpl = io.fetch ?? globalThis.fetch;
    try {
      const res = await fetchImpl(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
      await res.body?.cancel();
      if (res.status === 200) return 0;
      io.stderr.write(`${PROGRAM} healthcheck: ${url} answered ${res.status}\n`);
    } catch (err) {
      const reason = (err as { name?: string }).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : 'not reachable';
      io.stderr.write(`${PROGRAM} healthcheck: ${url} ${reason}\n`);
    }
    return 1;
  },
});
