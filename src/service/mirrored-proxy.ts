// The cached proxy with a mirror in front: a rostering read of a district with a published
// copy is answered from the copy (X-Cache: MIRROR) and never reaches the page cache or the
// district; everything else (writes, gradebook, resources, districts without a copy yet)
// goes on to the page cache as before. A copy that cannot be read (its PostgreSQL is down) is
// no reason to fail a read the district itself can answer: such reads go on to the page cache
// and the district until the store answers again.
import { GatewayError } from '../core/errors.js';
import type { Admission } from './client-admission.js';
import type { CachedProxy, CachedProxyRequest, CachedProxyResponse } from './cached-proxy.js';
import type { MirrorReads } from './mirror-reads.js';
import { repoint } from './oneroster-cache-policy.js';

export interface MirroredProxyOptions {
  inner: CachedProxy;
  reads: MirrorReads;
  /** Client rate limits: a mirror answer costs what a cache hit does. */
  admission?: Admission;
  now?: () => number;
  /**
   * Told once when a district's copy stops being readable (anything but a refusal of the read
   * itself: the store is down, or a fault), and once when it is readable again: one line per
   * change of state, however many reads fall back meanwhile.
   */
  onUnreadable?: (districtId: string, err: unknown) => void;
  onReadable?: (districtId: string) => void;
}

type Copy = NonNullable<ReturnType<MirrorReads['servable']>>;

/** How long reads skip a copy that could not be read before they try it again. */
export const UNREADABLE_RETRY_MS = 5_000;

export function createMirroredProxy(options: MirroredProxyOptions): CachedProxy {
  const { inner, reads, admission } = options;
  const now = options.now ?? Date.now;
  const answered = new Map<string, number>();
  // Districts whose copy could not be read at the last try: bounded by the configured districts.
  const unreadable = new Set<string>();
  // Until when a district's copy is not tried again (ms epoch): a store that hangs rather than
  // refuses would otherwise hold every mirrored read for its connect or statement timeout.
  const retryAt = new Map<string, number>();

  async function fromMirror(req: CachedProxyRequest, copy: Copy): Promise<CachedProxyResponse> {
    if (admission && req.caller) await admission(req.caller, 'hit');
    // Seconds since the copy last agreed with the district (a full pull, or a complete delta sync).
    const ageSeconds = Math.max(0, Math.floor((now() - copy.agreedAt) / 1000));
    const res: CachedProxyResponse = { ...(await answerOrMark(req, copy, ageSeconds)), cache: 'MIRROR', ageSeconds };
    answered.set(req.district.id, (answered.get(req.district.id) ?? 0) + 1);
    if (req.clientRoot !== req.hrefBase && res.headers.link !== undefined) repoint(res, req.hrefBase, req);
    return res;
  }

  /** The copy's answer; its refusal (an unknown object) marked as the copy's too, as its answers are. */
  async function answerOrMark(req: CachedProxyRequest, copy: Copy, ageSeconds: number) {
    try {
      const answer = await reads.answer(req, copy);
      if (unreadable.delete(req.district.id)) options.onReadable?.(req.district.id);
      return answer;
    } catch (err) {
      if (!(err instanceof GatewayError)) throw new Unreadable(err);
      if (unreadable.delete(req.district.id)) options.onReadable?.(req.district.id);
      const headers = { ...err.headers, 'x-cache': 'MIRROR', 'x-mirror-version': copy.version, age: String(ageSeconds) };
      throw new GatewayError(err.code, err.description, { status: err.status, codeMinor: err.codeMinor, headers });
    }
  }

  /** The copy's answer, or, when the copy cannot be read, the page cache's (and so the district's). */
  async function fromMirrorOrDistrict(req: CachedProxyRequest, copy: Copy): Promise<CachedProxyResponse> {
    try {
      return await fromMirror(req, copy);
    } catch (err) {
      if (!(err instanceof Unreadable)) throw err;
      retryAt.set(req.district.id, now() + UNREADABLE_RETRY_MS);
      if (!unreadable.has(req.district.id)) {
        unreadable.add(req.district.id);
        options.onUnreadable?.(req.district.id, err.cause);
      }
      return inner.handle(req);
    }
  }

  /** A request pinned to a copy (`snapshot`) is answered from that copy, or told to start over. */
  async function fromPin(req: CachedProxyRequest, version: string): Promise<CachedProxyResponse> {
    let copy: Copy | undefined;
    try {
      copy = await reads.pinned(req, version);
      if (copy) return await fromMirror(req, copy);
    } catch (err) {
      // Only that copy can answer a pinned read: the client waits for the store, not the district.
      if (!(err instanceof Unreadable) && err instanceof GatewayError) throw err;
      throw new GatewayError('upstream_busy', `The mirror of district "${req.district.id}" cannot be read right now; retry the same request later.`, { headers: { 'retry-after': '5' } });
    }
    throw new GatewayError(
      'gone',
      `The snapshot ${version} of district "${req.district.id}" is no longer kept (copies stay readable for mirror.snapshotRetentionSeconds after the next one). Restart the pull without the snapshot parameter.`,
    );
  }

  return {
    freshHit(req) {
      // A mirrored read is never answered from a page the copy may have overtaken, nor a pinned one from any page.
      if (req.query.snapshot !== undefined && reads.mirroredRoute(req)) return undefined;
      return reads.servable(req) ? undefined : inner.freshHit(req);
    },
    stats(districtId) {
      const s = inner.stats(districtId);
      const mirror = answered.get(districtId) ?? 0;
      const total = s.HIT + s.MISS + s.STALE + s.BYPASS + mirror;
      return { ...s, MIRROR: mirror, hitRatio: total === 0 ? null : Math.round(((s.HIT + s.STALE + mirror) / total) * 1000) / 1000 };
    },
    async handle(req) {
      if (req.query.snapshot !== undefined && reads.mirroredRoute(req)) return fromPin(req, req.query.snapshot);
      const copy = reads.servable(req);
      if (!copy) return inner.handle(req);
      // While the copy is known to be unreadable, straight to the page cache; then one more try.
      if ((retryAt.get(req.district.id) ?? 0) > now()) return inner.handle(req);
      return fromMirrorOrDistrict(req, copy);
    },
  };
}

/** A copy that could not be read, as opposed to a read the copy refused (a GatewayError). */
class Unreadable extends Error {
  override readonly name = 'MirrorUnreadable';
  constructor(override readonly cause: unknown) {
    super('the mirror copy could not be read');
  }
}
