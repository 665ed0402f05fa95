// A stored page asked for in a coding it was not stored in: compressed once, then every hit
// answers with those bytes; answers built on the fly are compressed for themselves only.
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createBodyCoder, DEFAULT_COMPRESSION, type BodyCoder } from '../../src/compression/body-coder.js';
import type { ContentCoding } from '../../src/core/http/accept-encoding.js';
import { representation, type Answer } from '../../src/http/representation.js';

const body = Buffer.from(`{"users":[${Array.from({ length: 80 }, (_, i) => `{"sourcedId":"u${i}","givenName":"Ada"}`).join(',')}]}`);

/** A body coder counting the late forms it makes and the answers it encodes on the fly. */
function countingCoder(lateFormsBytes?: number): BodyCoder & { made: ContentCoding[]; encoded: ContentCoding[] } {
  const made: ContentCoding[] = [];
  const encoded: ContentCoding[] = [];
  const coder = createBodyCoder(DEFAULT_COMPRESSION, { onLateForm: (c) => made.push(c), ...(lateFormsBytes ? { lateFormsBytes } : {}) });
  return {
    ...coder,
    made,
    encoded,
    encode(b, coding) {
      encoded.push(coding);
      return coder.encode(b, coding);
    },
  };
}

const request = (accept?: string) => new Request('http://gw/ims/oneroster/v1p1/users', accept ? { headers: { 'accept-encoding': accept } } : {});
const stored = (extra: Partial<Answer> = {}): Answer => ({
  status: 200,
  headers: { 'content-type': 'application/json; charset=utf-8' },
  body,
  digest: createBodyCoder().digest(body),
  ...extra,
});
const bytesOf = async (res: Response | Promise<Response>) => Buffer.from(await (await res).arrayBuffer());

describe('forms made after a page was stored', () => {
  it('are made once per page and coding, also for hits that arrive while it is being made', async () => {
    const coder = countingCoder();
    const represent = representation(coder);
    const answers = await Promise.all([1, 2, 3].map(() => represent(request('gzip'), stored(), false)));
    const later = await represent(request('gzip'), stored(), false);
    expect(coder.made).toEqual(['gzip']);
    for (const res of [...answers, later]) {
      expect(res.headers.get('content-encoding')).toBe('gzip');
      expect(gunzipSync(await bytesOf(res))).toEqual(body);
    }
    await represent(request('br'), stored(), false);
    expect(coder.made).toEqual(['gzip', 'br']);
  });

  it('are not made when the page brings the form, and an answer without a digest is compressed for itself', async () => {
    const coder = countingCoder();
    const represent = representation(coder);
    const gz = await createBodyCoder().encode(body, 'gzip');
    expect(await bytesOf(represent(request('gzip'), stored({ encoded: { gzip: gz } }), false))).toEqual(gz);
    expect(coder.made).toEqual([]);
    const built = { status: 200, headers: { 'content-type': 'application/json' }, body };
    await represent(request('gzip'), built, false);
    await represent(request('gzip'), { ...built, headers: { ...built.headers } }, false);
    expect(coder.encoded).toEqual(['gzip', 'gzip']);
    expect(coder.made).toEqual([]);
  });

  it('are bounded in bytes (lateFormsBytes): a form pushed out is made again', async () => {
    // Room for one form (its bytes, its key and the per-entry allowance), not two.
    const one = (await createBodyCoder().encode(body, 'gzip')).byteLength + `gzip:${stored().digest}`.length + 64;
    const coder = countingCoder(Math.ceil(one * 1.5));
    const represent = representation(coder);
    const other = Buffer.from(body.toString().replaceAll('Ada', 'Bob'));
    await represent(request('gzip'), stored(), false);
    await represent(request('gzip'), stored(), false);
    expect(coder.made).toEqual(['gzip']);
    await represent(request('gzip'), stored({ body: other, digest: createBodyCoder().digest(other) }), false);
    await represent(request('gzip'), stored(), false);
    expect(coder.made).toEqual(['gzip', 'gzip', 'gzip']);
    expect(() => createBodyCoder(DEFAULT_COMPRESSION, { lateFormsBytes: 0 })).toThrow(/maxBytes/);
  });

  it('are in demand from the moment a request asks for them (expect), so the page it fetches is stored in that coding', async () => {
    const coder = createBodyCoder();
    const represent = representation(coder);
    represent.expect(request());
    represent.expect(request('gzip;q=0, identity'));
    expect(await coder.encodeAll(body, 'application/json')).toBeUndefined();
    represent.expect(request('gzip, deflate'));
    expect(Object.keys((await coder.encodeAll(body, 'application/json'))!)).toEqual(['gzip']);
  });
});
