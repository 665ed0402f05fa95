// The one place that decides when paging through a OneRoster collection is over. Servers
// clamp `limit` silently (Ed-Fi to 500, ClassLink to 10000), so a short page proves nothing;
// the collection ends only when the district says so (an empty page, X-Total-Count reached,
// a Link header without rel="next"). Some districts ignore `offset` and answer the first
// page forever, with or without a total, with or without sourcedIds: a repeated page ends the
// walk too. Page and byte caps bound what a district that never says "done" can cost.
// Pure: the caller brings the I/O as `fetchPage`.

/** What the walker reads of a page; UpstreamPage (service/paging.ts) is one. */
export interface WalkPage {
  records: readonly unknown[];
  /** X-Total-Count, when the district sent a sane one. */
  total?: number | undefined;
  /** The district sent a Link header; `hasNext` is then meaningful. */
  hasLink?: boolean | undefined;
  hasNext?: boolean | undefined;
  /** Length of the answer the page was read from, for `maxBytes`. */
  bytes?: number | undefined;
}

/**
 * Why a walk ended: the district said so (`empty`, `total`, `no-next`), it repeated itself,
 * or a cap was reached. Undefined while walking, and when the caller stopped on its own.
 */
export type WalkStop = 'empty' | 'total' | 'no-next' | 'repeated' | 'page-cap' | 'byte-cap';

const END_OF_COLLECTION: ReadonlySet<WalkStop> = new Set(['empty', 'total', 'no-next']);

export interface PageWalkOptions<P extends WalkPage> {
  fetchPage(offset: number, limit: number): Promise<P>;
  /** Records to ask for; a function when it changes from page to page (stitching asks for what is missing). */
  limit: number | (() => number);
  /** Offset of the first page. Default 0. */
  start?: number;
  /** The first page, when the caller has already read it (at `start`); it counts as a page read. */
  first?: P;
  /** Most pages read, the first included; reached before the district ends, the walk stops (`page-cap`). */
  maxPages?: number;
  /** Most bytes of the pages read (the sum of `bytes`); passed, the walk stops (`byte-cap`) before yielding the page. */
  maxBytes?: number;
  /**
   * Requests in flight at once, used only once X-Total-Count says where the collection ends
   * and `limit` is a number: pages are then asked for ahead, assuming each one is full (a
   * page that is not throws the pages asked ahead away and goes on from where it ended).
   * Default 1.
   */
  concurrency?: number;
  /**
   * The set the sourcedIds read are added to, for a caller that also wants them (delta sync
   * counts what it holds); by default the walker keeps its own.
   */
  seen?: Set<unknown>;
  /**
   * Whose sourcedIds a page is checked against: every earlier page's (`walk`, the default), or
   * only the page before's (`page`), for walks too long to hold every id (a whole district).
   */
  idMemory?: 'walk' | 'page';
}

export interface WalkStep<P extends WalkPage> {
  page: P;
  /** The offset the page was read at. */
  offset: number;
  /** The page's records whose sourcedId no earlier page had (the page before, with idMemory `page`), and those without one, in order. */
  fresh: readonly unknown[];
  /** The page ends the collection (X-Total-Count reached, or a Link without rel="next"). */
  last: boolean;
}

export interface PageWalk<P extends WalkPage> extends AsyncIterable<WalkStep<P>> {
  /** Why the walk ended (see WalkStop). */
  readonly stop: WalkStop | undefined;
  /** The district said the collection ended: an empty page, its total reached, or no rel="next". */
  readonly ended: boolean;
  /** Pages read, the first included, repeated and empty ones too. */
  readonly pages: number;
  /** Bytes of the pages read, repeated ones excluded. */
  readonly bytes: number;
}

// Never in a set of sourcedIds: a record without one is always fresh.
const NO_ID = Symbol('no sourcedId');

const idOf = (record: unknown): unknown =>
  record && typeof record === 'object' ? (record as { sourcedId?: unknown }).sourcedId : undefined;

/**
 * True when `next` looks like `previous` sent again: same length, same first, middle and last
 * record. Catches a server that ignores `offset` even when its records have no sourcedId (the
 * id check then sees every record as new). Comparing three records, not the whole page, keeps
 * it cheap on 30 MB pages; honest pages that match on all three are repeats of data anyway.
 */
export function isRepeatedPage(previous: readonly unknown[], next: readonly unknown[]): boolean {
  const n = next.length;
  if (n === 0 || n !== previous.length) return false;
  return [0, n >> 1, n - 1].every((i) => JSON.stringify(previous[i]) === JSON.stringify(next[i]));
}

/** What the repeated-page rule keeps of the page before: what isRepeatedPage compares, never the page. */
interface PageSample {
  length: number;
  picks: ReadonlyArray<string | undefined>;
}

function sampleOf(records: readonly unknown[]): PageSample {
  const n = records.length;
  return { length: n, picks: n === 0 ? [] : [0, n >> 1, n - 1].map((i) => JSON.stringify(records[i])) };
}

/** The page was read before: the page before sent again (see isRepeatedPage), or every record's sourcedId already seen. */
function repeats(previous: PageSample | undefined, page: PageSample, records: readonly unknown[], seen: ReadonlySet<unknown>): boolean {
  if (records.length === 0) return false;
  if (previous && previous.length === page.length && page.picks.every((p, i) => p === previous.picks[i])) return true;
  return records.every((r) => {
    const id = idOf(r);
    return id !== undefined && seen.has(id);
  });
}

/**
 * The district says `page`, read at offset `at`, is the last of its collection: it is empty,
 * it reaches X-Total-Count (`total`, the page's own by default), or, without a total, its Link
 * header has no rel="next". X-Total-Count is the more exact word: a Link is read only without one.
 */
export function endsCollection(page: WalkPage, at: number, total: number | undefined = page.total): boolean {
  if (page.records.length === 0) return true;
  return total !== undefined ? at + page.records.length >= total : !!page.hasLink && !page.hasNext;
}

/** Options are counts: whole numbers from `min`, or Infinity. */
function checkCount(name: string, value: number | undefined, min: number): void {
  if (value === undefined || value === Infinity) return;
  if (!Number.isInteger(value) || value < min) throw new RangeError(`walkPages: ${name} must be an integer of at least ${min}`);
}

/**
 * Pages of a collection, one step per page that brings something, until one of the stop
 * rules holds. Break out of the loop to stop for a reason of your own (a page filled, a
 * bound of yours); pages asked for ahead are awaited before the loop ends. Single use.
 */
export function walkPages<P extends WalkPage>(options: PageWalkOptions<P>): PageWalk<P> {
  checkCount('maxPages', options.maxPages, 0);
  checkCount('maxBytes', options.maxBytes, 0);
  checkCount('concurrency', options.concurrency, 1);
  const state = { stop: undefined as WalkStop | undefined, pages: 0, bytes: 0, used: false };
  return {
    get stop() {
      return state.stop;
    },
    get ended() {
      return state.stop !== undefined && END_OF_COLLECTION.has(state.stop);
    },
    get pages() {
      return state.pages;
    },
    get bytes() {
      return state.bytes;
    },
    [Symbol.asyncIterator]() {
      if (state.used) throw new Error('walkPages: a walk is read once');
      state.used = true;
      return steps(options, state);
    },
  };
}

interface WalkState {
  stop: WalkStop | undefined;
  pages: number;
  bytes: number;
}

async function* steps<P extends WalkPage>(options: PageWalkOptions<P>, state: WalkState): AsyncGenerator<WalkStep<P>> {
  const seen = options.seen ?? new Set<unknown>();
  const maxPages = options.maxPages ?? Infinity;
  const maxBytes = options.maxBytes ?? Infinity;
  const requests = aheadQueue(options, () => state.pages);
  let offset = options.start ?? 0;
  let total: number | undefined;
  let previous: PageSample | undefined;
  let given = options.first;
  const stop = (why: WalkStop): void => {
    state.stop = why;
  };
  try {
    for (;;) {
      let at = offset;
      let page: P;
      if (given) {
        page = given;
        given = undefined;
      } else {
        if (state.pages >= maxPages) return stop('page-cap');
        ({ at, page } = await requests.next(offset, total));
      }
      state.pages++;
      // A server that ignores `offset` repeats itself; nothing of a repeated page is used, so
      // it does not count against maxBytes.
      const sample = sampleOf(page.records);
      if (repeats(previous, sample, page.records, seen)) return stop('repeated');
      if (page.records.length === 0) return stop('empty');
      state.bytes += page.bytes ?? 0;
      if (state.bytes > maxBytes) return stop('byte-cap');
      previous = sample;
      total = page.total ?? total;
      offset = at + page.records.length;
      const fresh = seen.size === 0 ? page.records : page.records.filter((r) => !seen.has(idOf(r) ?? NO_ID));
      const last = endsCollection(page, at, total);
      yield { page, offset: at, fresh, last };
      if (options.idMemory === 'page') seen.clear();
      for (const r of options.idMemory === 'page' ? page.records : fresh) {
        const id = idOf(r);
        if (id !== undefined) seen.add(id);
      }
      if (last) return stop(total !== undefined ? 'total' : 'no-next');
    }
  } finally {
    await requests.settle();
  }
}

/**
 * The requests of a walk: one at a time, or, once a total is known and the page size fixed,
 * up to `concurrency` at the offsets full pages would have. A failed request stops asking ahead.
 */
function aheadQueue<P extends WalkPage>(options: PageWalkOptions<P>, pagesRead: () => number) {
  const queue: Array<{ at: number; page: Promise<P> }> = [];
  const concurrency = options.concurrency ?? 1;
  const maxPages = options.maxPages ?? Infinity;
  const limitNow = () => (typeof options.limit === 'number' ? options.limit : options.limit());
  let failed = false;
  const ask = (at: number) => {
    const page = options.fetchPage(at, limitNow());
    page.catch(() => {
      failed = true;
    });
    queue.push({ at, page });
  };
  const settle = async () => {
    const pending = queue.splice(0).map((q) => q.page);
    await Promise.allSettled(pending);
  };
  return {
    settle,
    async next(offset: number, total: number | undefined): Promise<{ at: number; page: P }> {
      // Asked ahead for a full page that was not: those offsets are wrong.
      if (queue.length > 0 && queue[0]!.at !== offset) await settle();
      if (queue.length === 0) ask(offset);
      const size = options.limit;
      if (total !== undefined && typeof size === 'number') {
        for (let at = queue.at(-1)!.at + size; queue.length < concurrency && at < total && !failed; at += size) {
          if (pagesRead() + queue.length >= maxPages) break;
          ask(at);
        }
      }
      const head = queue.shift()!;
      return { at: head.at, page: await head.page };
    },
  };
}
