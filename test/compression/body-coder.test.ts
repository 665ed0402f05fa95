// Which codings a stored page is made in: only those clients asked for lately (DEMAND_MS).
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createBodyCoder, DEFAULT_COMPRESSION, DEMAND_MS } from '../../src/compression/body-coder.js';

const page = Buffer.from(`{"users":[${Array.from({ length: 80 }, (_, i) => `{"sourcedId":"u${i}","givenName":"Ada"}`).join(',')}]}`);
const JSON_TYPE = 'application/json; charset=utf-8';

describe('the codings a stored page is made in', () => {
  it('are none while no client has asked for one: a gateway of identity clients compresses nothing', async () => {
    const coder = createBodyCoder();
    expect(await coder.encodeAll(page, JSON_TYPE)).toBeUndefined();
  });

  it('are those clients asked for within DEMAND_MS, and no other', async () => {
    let t = 1_000_000;
    const coder = createBodyCoder(DEFAULT_COMPRESSION, { now: () => t });
    coder.demand('gzip');
    const gz = await coder.encodeAll(page, JSON_TYPE);
    expect(Object.keys(gz!)).toEqual(['gzip']);
    expect(gunzipSync(gz!.gzip!)).toEqual(page);
    t += DEMAND_MS / 2;
    coder.demand('br');
    const both = await coder.encodeAll(page, JSON_TYPE);
    expect(Object.keys(both!).sort()).toEqual(['br', 'gzip']);
    expect(brotliDecompressSync(both!.br!)).toEqual(page);
    // gzip last asked for DEMAND_MS ago: no longer made.
    t += DEMAND_MS / 2;
    expect(Object.keys((await coder.encodeAll(page, JSON_TYPE))!)).toEqual(['br']);
    t += DEMAND_MS;
    expect(await coder.encodeAll(page, JSON_TYPE)).toBeUndefined();
  });

  it('ignore a coding the configuration does not offer, and bodies not worth compressing', async () => {
    const coder = createBodyCoder({ ...DEFAULT_COMPRESSION, encodings: ['gzip'] });
    coder.demand('br');
    expect(await coder.encodeAll(page, JSON_TYPE)).toBeUndefined();
    coder.demand('gzip');
    expect(await coder.encodeAll(page.subarray(0, 100), JSON_TYPE)).toBeUndefined();
    expect(await coder.encodeAll(page, 'image/png')).toBeUndefined();
    expect(Object.keys((await coder.encodeAll(page, JSON_TYPE))!)).toEqual(['gzip']);
    const off = createBodyCoder({ ...DEFAULT_COMPRESSION, enabled: false });
    off.demand('gzip');
    expect(await off.encodeAll(page, JSON_TYPE)).toBeUndefined();
  });
});
