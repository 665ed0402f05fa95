// The cached proxy with a mirror in front: a rostering read of a district with a published
// copy is answered from the copy (X-Cache: MIRROR) and never reaches the page cache or the
// district; everything else (writes, gradebook, resources, districts without a copy yet)
// goes on to the page cache as before.
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
}

type Copy = NonNullable<ReturnType<MirrorReads['servable']>>;

export function createMirroredProxy(options: MirroredProxyOptions): CachedProxy {
  const { inner, reads, admission } = options;
  const now = options.now ?? Date.now;
  const answered = new Map<string, number>();

  async function fromMirror(req: CachedProxyRequest, copy: Copy): Promise<CachedProxyResponse> {
    if (admission && req.caller) await admission(req.caller, 'hit');
    // Seconds since the copy last agreed with the district (a full pull, or a complete delta sync).
    const ageSeconds = Math.max(0, Math.floor((now() - copy.agreedAt) / 1000));
    answered.set(req.district.id, (answered.get(req.district.id) ?? 0) + 1);
    const res: CachedProxyResponse = { ...(await answerOrMark(req, copy, ageSeconds)), cache: 'MIRROR', ageSeconds };
    if (req.clientRoot !== req.hrefBase && res.headers.link !== undefined) repoint(res, req.hrefBase, req);
    return res;
  }

  /** The copy's answer; its refusal (an unknown object) marked as the copy's too, as its answers are. */
  async function answerOrMark(req: CachedProxyRequest, copy: Copy, ageSeconds: number) {
    try {
      return await reads.answer(req, copy);
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      const headers = { ...err.headers, 'x-cache': 'MIRROR', 'x-mirror-version': copy.version, age: String(ageSeconds) };
      throw new GatewayError(err.code, err.description, { status: err.status, codeMinor: err.codeMinor, headers });
    }
  }

  /** A request pinned to a copy (`snapshot`) is answered from that copy, or told to start over. */
  async function fromPin(req: CachedProxyRequest, version: string): Promise<CachedProxyResponse> {
    const copy = await reads.pinned(req, version);
    if (copy) return fromMirror(req, copy);
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
      return copy ? fromMirror(req, copy) : inner.handle(req);
    },
  };
}

