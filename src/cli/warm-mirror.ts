// `warm DISTRICT --mirror`: waits until the district's mirror has a published copy (GET
// /districts shows `mirror.state: ready`), so a nightly job can start its pulls when every
// read will be answered from the copy. A mirrored district needs no page warming.
import { ensureOk, request } from './gateway-client.js';
import { CliFailure, type CliIO } from './io.js';

interface MirrorView {
  state?: string;
  version?: string | null;
  counts?: Record<string, number>;
  ageSeconds?: number | null;
  lastFullPull?: { outcome?: string; reason?: string } | null;
  lastError?: { message?: string } | null;
  lastRefusal?: { reason?: string } | null;
  pulling?: boolean;
}

export interface MirrorWait {
  io: CliIO;
  base: string;
  token: string;
  district: string;
  timeoutMs: number;
  /** Between two looks at GET /districts. */
  pollMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

async function look(w: MirrorWait): Promise<MirrorView> {
  const list = (ensureOk(await request(w.io, 'GET', `${w.base}/districts`, w.token)).body as { districts?: Array<{ id: string; mirror?: MirrorView }> }).districts ?? [];
  const d = list.find((x) => x.id === w.district);
  if (!d) throw new CliFailure(`district "${w.district}" is unknown to the gateway, or the client may not use it`);
  return d.mirror ?? { state: 'off' };
}

/** Resolves with the ready mirror; exit code 1 (CliFailure) when it is off, failed, or not ready in time. */
export async function waitForMirror(w: MirrorWait): Promise<MirrorView> {
  const sleep = w.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = Date.now() + w.timeoutMs;
  let said = '';
  for (;;) {
    const m = await look(w);
    if (m.state === 'off') throw new CliFailure(`district "${w.district}" is not mirrored (districts[].mirror in the gateway's config)`);
    if (m.state === 'ready') {
      const records = Object.values(m.counts ?? {}).reduce((n, c) => n + c, 0);
      w.io.stdout.write(`mirror of ${w.district} ready: version ${m.version}, ${records} records, age ${m.ageSeconds ?? 0} s\n`);
      return m;
    }
    if (m.state === 'failed') {
      const why = m.lastFullPull?.reason ?? m.lastError?.message ?? m.lastRefusal?.reason ?? 'no reason given';
      throw new CliFailure(`the mirror of "${w.district}" has no copy: its last full pull ${m.lastFullPull?.outcome ?? 'failed'} (${why})`);
    }
    const line = `mirror of ${w.district}: ${m.state}${m.pulling ? ', pulling' : ''}\n`;
    if (line !== said) w.io.stderr.write((said = line));
    if (Date.now() >= deadline) throw new CliFailure(`the mirror of "${w.district}" was not ready within ${Math.round(w.timeoutMs / 1000)} s`);
    await sleep(w.pollMs ?? 1000);
  }
}
