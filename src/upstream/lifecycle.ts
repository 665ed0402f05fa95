// How a district's client ends. It is owned by the client at the bottom of the chain (its pool
// and its queue), not by the steps around it: the composed district hands these out as they are.
import { performance } from 'node:perf_hooks';
import type { Transport } from './http.js';
import type { Limiter } from './limiter.js';

export interface Lifecycle {
  /** Cuts at once (shutdown): queued requests fail, in-flight ones are cut. */
  close(): Promise<void>;
  /**
   * For a district replaced while serving (config reload, rotated ClassLink bearer): the
   * requests in flight and queued finish, then the client closes once it has stayed idle
   * for a moment (a stitched page's next call follows its first), or after a bound.
   */
  retire(): Promise<void>;
}

export interface LifecycleOptions {
  limiter: Limiter;
  transport: Transport;
  queueTimeoutMs: number;
  timeoutMs: number;
  /** How long a retired client must stay idle before it closes; defaults to 2 s. */
  lingerMs?: number;
}

export function clientLifecycle(options: LifecycleOptions): Lifecycle {
  const { limiter, transport } = options;
  let closing: Promise<void> | undefined;
  async function close() {
    limiter.close();
    await transport.close();
  }
  const lingerMs = options.lingerMs ?? 2_000;
  // Beyond this, whatever still runs would have timed out anyway.
  const retireBoundMs = Math.min(options.queueTimeoutMs + 2 * options.timeoutMs + lingerMs, 15 * 60_000);

  async function idleThenClose(): Promise<void> {
    const until = performance.now() + retireBoundMs;
    let idleSince: number | undefined;
    while (performance.now() < until) {
      const t = performance.now();
      if (limiter.active > 0 || limiter.queued > 0) idleSince = undefined;
      else if ((idleSince ??= t) + lingerMs <= t) break;
      await new Promise((r) => setTimeout(r, Math.min(100, lingerMs)).unref());
    }
    await close();
  }

  return {
    close: () => (closing ??= close()),
    retire: () => (closing ??= idleThenClose()),
  };
}
