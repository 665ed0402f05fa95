import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/core/errors.js';
import { createClientAdmission } from '../../src/service/client-admission.js';

describe('client admission', () => {
  it('charges a miss 1 and a hit hitCost from the client bucket, free hits asking nothing; refuses with 429 and Retry-After', async () => {
    const taken: Array<[string, number]> = [];
    let ok = true;
    const refused: string[] = [];
    const admit = createClientAdmission({
      take: async (key, cost) => (taken.push([key, cost]), { ok, retryAfterMs: 1500 }),
      onRefused: (id) => void refused.push(id),
    });
    await admit({ clientId: 'a', rateLimit: { requestsPerSecond: 2, hitCost: 0.25 } }, 'miss');
    await admit({ clientId: 'a', rateLimit: { requestsPerSecond: 2, hitCost: 0.25 } }, 'hit');
    await admit({ clientId: 'b', rateLimit: { requestsPerSecond: 2, hitCost: 0 } }, 'hit');
    expect(taken).toEqual([['client:a', 1], ['client:a', 0.25]]);
    ok = false;
    const err = await admit({ clientId: 'a', rateLimit: { requestsPerSecond: 2, hitCost: 0.25 } }, 'miss').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect([(err as GatewayError).status, (err as GatewayError).headers['retry-after']]).toEqual([429, '2']);
    expect(refused).toEqual(['a']);
  });
});
