import { defineCommand, PROGRAM } from './command.js';
import { adminToken, ensureOk, gatewayUrl, lazyConfig, request, seg } from './gateway-client.js';
import { CliFailure } from './io.js';
import { ADMIN_OPTIONS } from './purge.js';
import { formatTable } from './table.js';

interface SyncAnswer {
  sync?: {
    district: string;
    ran: boolean;
    reason?: string;
    collections?: Array<{ collection: string; outcome: string; changes: number; pages: number; watermark?: string }>;
  };
}

export const syncCommand = defineCommand({
  name: 'sync',
  summary: 'run a delta sync of one district on a running gateway now',
  usage: `usage: ${PROGRAM} sync DISTRICT [options]

Asks a running gateway (POST /admin/districts/{id}/sync) to poll the district for changed
records now, and prints what each collection did. Exit 1 when the sync did not run or a
collection failed.
${ADMIN_OPTIONS}`,
  args: { strings: ['url', 'admin-token', 'config'], positionals: { min: 1, max: 1, names: 'DISTRICT' } },
  async run(args, io) {
    const config = lazyConfig(args, io);
    const base = gatewayUrl(args, config, 'admin');
    const token = adminToken(args, io, config);
    const district = args.positionals[0]!;
    const answer = ensureOk(await request(io, 'POST', `${base}/admin/districts/${seg(district)}/sync`, token));
    const report = (answer.body as SyncAnswer | undefined)?.sync;
    if (!report) throw new CliFailure('the gateway answered without a sync report');
    if (!report.ran) throw new CliFailure(`sync of ${district} did not run: ${report.reason ?? 'no reason given'}`);
    const rows = (report.collections ?? []).map((c) => [c.collection, c.outcome, c.changes, c.pages, c.watermark ?? '-']);
    io.stdout.write(`sync ${report.district}\n${formatTable(['collection', 'outcome', 'changes', 'pages', 'watermark'], rows)}\n`);
    return (report.collections ?? []).some((c) => c.outcome === 'failed') ? 1 : 0;
  },
});
