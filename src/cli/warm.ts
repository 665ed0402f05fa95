import { baseCollection, serviceOf } from '../core/oneroster/collections.js';
import { walkPages } from '../core/page-walk.js';
import { defineCommand, PROGRAM } from './command.js';
import { loadConfig } from './config-file.js';
import { describeError, ensureOk, gatewayUrl, request, seg, type Answer } from './gateway-client.js';
import { CliFailure, UsageError, type CliIO } from './io.js';
import { mintToken } from './mint-token.js';
import { createProgress, type CollectionOutcome, type Progress, type ProgressState } from './progress.js';
import { formatTable } from './table.js';
import { waitForMirror } from './warm-mirror.js';

export const WARM_DEFAULT_COLLECTIONS = ['orgs', 'academicSessions', 'courses', 'classes', 'users', 'enrollments', 'demographics'];


export const warmCommand = defineCommand({
  name: 'warm',
  summary: 'prefetch a district\'s collections into a running gateway\'s cache',
  usage: `usage: ${PROGRAM} warm DISTRICT [COLLECTION...] --client ID [options]

Reads every page of each collection through a running gateway, so the pages are cached
before the first app asks. The token is minted locally for --client (as the token command
does). Default collections: ${WARM_DEFAULT_COLLECTIONS.join(' ')}.
A collection the district does not have (404, 501) is skipped. Exit 1 when one failed.
With --mirror, a mirrored district is not paged: the command waits until its mirror has a
published copy (exit 1 if it is not mirrored, its pull failed, or --timeout passes).
  --client ID          a configured client that may read the district (required)
  --mirror             wait for the district's mirror to be ready instead of reading pages
  --timeout SECONDS    with --mirror: longest wait, 1-86400 (default 600)
  --page-size N        records per page, 1-10000 (default 1000)
  --concurrency N      pages of one collection fetched at once, 1-16 (default 1)
  --url URL            the running gateway (default http://127.0.0.1:{server.port} from the config)
  --config FILE        default GATEWAY_CONFIG, else the bundled gateway.example.yaml`,
  args: { strings: ['client', 'page-size', 'concurrency', 'url', 'config', 'timeout'], flags: ['mirror'], positionals: { min: 1, max: 64, names: 'DISTRICT' } },
  async run(args, io) {
    const clientId = args.string('client');
    if (!clientId) throw new UsageError('--client is required');
    const [district, ...named] = args.positionals as [string, ...string[]];
    for (const c of named) if (!baseCollection(c)) throw new UsageError(`unknown collection "${c}"`);
    const pageSize = args.int('page-size', 1000, 1, 10_000);
    const concurrency = args.int('concurrency', 1, 1, 16);
    const { config } = loadConfig(args.string('config'), io);
    const base = gatewayUrl(args, () => config);
    const token = mintToken(config, clientId).access_token;
    const now = io.now ?? (() => performance.now());
    if (args.flag('mirror')) {
      await waitForMirror({ io, base, token, district, timeoutMs: args.int('timeout', 600, 1, 86_400) * 1000 });
      return 0;
    }

    const version = await districtVersion(io, base, token, district, clientId);
    const ctx: WarmContext = {
      io,
      token,
      root: `${base}/districts/${seg(district)}/ims/oneroster`,
      version,
      pageSize,
      concurrency,
      now,
      progress: createProgress(io.stderr, district, now),
    };
    const outcomes: CollectionOutcome[] = [];
    for (const c of named.length > 0 ? named : WARM_DEFAULT_COLLECTIONS) outcomes.push(await warmCollection(ctx, c));
    io.stdout.write(`${summaryTable(outcomes)}\n`);
    return outcomes.some((o) => o.result === 'failed') ? 1 : 0;
  },
});

interface WarmContext {
  io: CliIO;
  token: string;
  root: string;
  version: 'v1p1' | 'v1p2';
  pageSize: number;
  concurrency: number;
  now: () => number;
  progress: Progress;
}

interface Page {
  answer: Answer;
  records: unknown[];
  total?: number;
  upstream: number;
}

/** The gateway refused a page (not 2xx). */
class Refused extends Error {
  override readonly name = 'Refused';
  constructor(
    readonly page: Page,
    readonly offset: number,
  ) {
    super(`HTTP ${page.answer.status}`);
  }
  /** A collection the district does not have (404, 501) is skipped, not failed. */
  get skipped(): boolean {
    return this.offset === 0 && (this.page.answer.status === 404 || this.page.answer.status === 501);
  }
}

/** The district's version from GET /districts; a `version: auto` district not yet probed is asked once. */
async function districtVersion(io: CliIO, base: string, token: string, id: string, clientId: string): Promise<'v1p1' | 'v1p2'> {
  const read = async () => {
    const list = (ensureOk(await request(io, 'GET', `${base}/districts`, token)).body as { districts?: Array<{ id: string; version: string | null }> }).districts ?? [];
    const d = list.find((x) => x.id === id);
    if (!d) throw new CliFailure(`district "${id}" is unknown to the gateway, or client "${clientId}" may not use it`);
    return d.version;
  };
  let version = await read();
  if (version === null) {
    // Any read makes the gateway probe the district; the answer itself does not matter.
    await request(io, 'GET', `${base}/districts/${seg(id)}/ims/oneroster/rostering/v1p2/orgs?limit=1`, token);
    version = await read();
  }
  if (version !== 'v1p1' && version !== 'v1p2') throw new CliFailure(`the version of district "${id}" is not known yet (the district did not answer the gateway's probe)`);
  return version;
}

/** `upstream;dur=12.3;desc="2"` → 2; no upstream metric (a cache hit) → 0. */
export function upstreamRequests(serverTiming: string | null): number {
  for (const metric of (serverTiming ?? '').split(',')) {
    const [name, ...params] = metric.split(';').map((s) => s.trim());
    if (name !== 'upstream') continue;
    for (const p of params) {
      const m = /^desc="?(\d+)"?$/i.exec(p);
      if (m) return Number(m[1]);
    }
    return 1;
  }
  return 0;
}

async function fetchPage(ctx: WarmContext, collection: string, offset: number): Promise<Page> {
  const base = baseCollection(collection);
  const root = ctx.version === 'v1p1' ? '/v1p1' : `/${base ? serviceOf(base) : 'rostering'}/v1p2`;
  const answer = await request(ctx.io, 'GET', `${ctx.root}${root}/${collection}?limit=${ctx.pageSize}&offset=${offset}`, ctx.token);
  const body = answer.body;
  const list = body && typeof body === 'object' ? Object.values(body).find(Array.isArray) : undefined;
  const totalHeader = answer.headers.get('x-total-count');
  const total = totalHeader !== null && /^\d+$/.test(totalHeader) ? Number(totalHeader) : undefined;
  return { answer, records: list ?? [], upstream: upstreamRequests(answer.headers.get('server-timing')), ...(total !== undefined ? { total } : {}) };
}

async function warmCollection(ctx: WarmContext, collection: string): Promise<CollectionOutcome> {
  const started = ctx.now();
  const state: ProgressState & { upstream: number } = { collection, pages: 0, records: 0, upstream: 0 };
  const finish = (result: CollectionOutcome['result'], note?: string): CollectionOutcome => {
    const outcome: CollectionOutcome = { ...state, result, seconds: (ctx.now() - started) / 1000, ...(note ? { note } : {}) };
    ctx.progress.end(outcome);
    return outcome;
  };
  // Pages are counted as they arrive, pages asked for ahead included, in whatever order.
  const account = async (offset: number): Promise<Page> => {
    const page = await fetchPage(ctx, collection, offset);
    if (page.answer.status < 200 || page.answer.status > 299) {
      const refused = new Refused(page, offset);
      if (!refused.skipped) state.upstream += page.upstream;
      throw refused;
    }
    if (offset === 0 && page.total !== undefined) state.total = page.total;
    state.pages++;
    state.records += page.records.length;
    state.upstream += page.upstream;
    ctx.progress.update(state);
    return page;
  };
  // Once the first page gives the total, the offsets of the rest are known: up to
  // --concurrency of them are asked for at once. A repeat is checked against the page before
  // only: every sourcedId of a whole district would not fit a command's memory.
  const walk = walkPages({ limit: ctx.pageSize, concurrency: ctx.concurrency, idMemory: 'page', fetchPage: account });
  try {
    // The gateway fills every page unless the collection ends: a short page is the last one.
    for await (const { page } of walk) if (page.records.length < ctx.pageSize) break;
    return finish('warmed');
  } catch (err) {
    if (err instanceof Refused) return err.skipped ? finish('skipped', err.message) : finish('failed', describeError(err.page.answer));
    if (err instanceof CliFailure) return finish('failed', err.message);
    throw err;
  }
}

function summaryTable(outcomes: readonly CollectionOutcome[]): string {
  const sum = (f: (o: CollectionOutcome) => number) => outcomes.reduce((n, o) => n + f(o), 0);
  const rows = outcomes.map((o) => [o.collection, o.result, o.pages, o.records, o.seconds.toFixed(2), o.upstream, o.note ?? '']);
  rows.push(['total', '', sum((o) => o.pages), sum((o) => o.records), sum((o) => o.seconds).toFixed(2), sum((o) => o.upstream), '']);
  return formatTable(['collection', 'result', 'pages', 'records', 'seconds', 'upstream', 'note'], rows);
}
