import { defineCommand, PROGRAM } from './command.js';
import { adminToken, ensureOk, gatewayUrl, lazyConfig, request, seg } from './gateway-client.js';

export const ADMIN_OPTIONS = `  --url URL            the running gateway (default from the config: admin.listen when set,
                       else http://127.0.0.1:{server.port})
  --admin-token TOKEN  else GATEWAY_ADMIN_TOKEN, else the config's admin.token
  --config FILE        default GATEWAY_CONFIG, else the bundled gateway.example.yaml`;

export const purgeCommand = defineCommand({
  name: 'purge',
  summary: 'drop a district, a collection or one record from a running gateway\'s cache',
  usage: `usage: ${PROGRAM} purge DISTRICT [COLLECTION [SOURCED_ID]] [options]

Asks a running gateway (DELETE /admin/cache/districts/...) to drop cached pages: the whole
district, every page of one collection, or one record and the lists that hold it.
${ADMIN_OPTIONS}`,
  args: { strings: ['url', 'admin-token', 'config'], positionals: { min: 1, max: 3, names: 'DISTRICT' } },
  async run(args, io) {
    const config = lazyConfig(args, io);
    const base = gatewayUrl(args, config, 'admin');
    const token = adminToken(args, io, config);
    const path = args.positionals.map(seg).join('/');
    ensureOk(await request(io, 'DELETE', `${base}/admin/cache/districts/${path}`, token));
    io.stdout.write(`purged ${args.positionals.join('/')}\n`);
    return 0;
  },
});
