import { describe, expect, it } from 'vitest';
import { classlinkSchema } from '../../src/config/schema.js';
import { createClassLinkDiscovery } from '../../src/districts/classlink.js';
import { createDistrictRegistry } from '../../src/districts/districts.js';

// ClassLink's discovery answer is input from outside like a district's: a huge or endless
// one is cut at classlink.upstream.maxBodyBytes, never read whole, and the last known tenants
// keep serving.
describe('ClassLink discovery bounds', () => {
  it('refuses an answer past maxBodyBytes while it streams, and says so in the log', async () => {
    let sent = 0;
    let cancelled = false;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += 64 * 1024;
        controller.enqueue(new Uint8Array(64 * 1024).fill(32));
        if (sent > 512 * 1024 * 1024) controller.close(); // far past any cap: the test would fail by then
      },
      cancel() {
        cancelled = true;
      },
    });
    const warnings: Array<Record<string, unknown>> = [];
    const discovery = createClassLinkDiscovery({
      config: classlinkSchema.parse({ token: 'dev-token-0123456789', upstream: { maxBodyBytes: 1024 * 1024 } }),
      registry: createDistrictRegistry(),
      buildClient: () => {
        throw new Error('no tenant can be built from this answer');
      },
      onRemoved: () => undefined,
      logger: { info: () => undefined, warn: (o) => void warnings.push(o as Record<string, unknown>) },
      fetchImpl: async () => new Response(endless, { status: 200, headers: { 'content-type': 'application/json' } }),
    });
    await discovery.refresh();
    expect(cancelled).toBe(true);
    expect(sent).toBeLessThan(2 * 1024 * 1024);
    expect(warnings).toEqual([expect.objectContaining({ msg: 'classlink discovery failed', reason: expect.stringContaining('larger than 1048576 bytes') })]);
    expect(JSON.stringify(warnings)).not.toContain('dev-token');
    await discovery.stop();
  });
});
