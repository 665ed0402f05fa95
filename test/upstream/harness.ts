// What the upstream tests start and must close after each test: local origins, upstream
// clients and transports, closed in reverse order by one afterEach per test file.
import { afterEach } from 'vitest';
import { createUpstreamClient } from '../../src/upstream/client.js';
import { createTransport, type Transport } from '../../src/upstream/http.js';
import type { UpstreamClient } from '../../src/upstream/types.js';
import { startLocalServer, type LocalServer } from './local-server.js';

/** Call once at the top of a test file. `timeoutMs`: the transports' read timeout. */
export function upstreamHarness(options: { timeoutMs?: number } = {}) {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!();
  });
  return {
    cleanups,
    async server(...args: Parameters<typeof startLocalServer>): Promise<LocalServer> {
      const s = await startLocalServer(...args);
      cleanups.push(() => s.close());
      return s;
    },
    client(...args: Parameters<typeof createUpstreamClient>): UpstreamClient {
      const c = createUpstreamClient(...args);
      cleanups.push(() => c.close());
      return c;
    },
    transport(maxBodyBytes: number, maxInFlightBytes?: number): Transport {
      const t = createTransport({ districtId: 'd1', connectTimeoutMs: 500, timeoutMs: options.timeoutMs ?? 5000, maxBodyBytes, ...(maxInFlightBytes ? { maxInFlightBytes } : {}) });
      cleanups.push(() => t.close());
      return t;
    },
  };
}
