// The bytes an answer goes out as, for the request that asked: its content coding negotiated
// from Accept-Encoding, its strong entity tag, and 304 when If-None-Match names it. A cached
// page brings its digest and the codings clients were asking for when it was stored, so a hit
// computes nothing here. A stored page without the coding a client asks for (stored before any
// client asked for it, or cut from a block) is compressed once (BodyCoder.lateForm).
import type { BodyCoder } from '../compression/body-coder.js';
import { negotiateEncoding, type ContentCoding } from '../core/http/accept-encoding.js';
import { entityTag, ifNoneMatchNames } from '../core/http/etag.js';

/** An answer before its representation is chosen: headers lower-cased, the body whole. */
export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer | string | null;
  /** The body's digest, when stored with it. */
  digest?: string;
  /** The body in content codings, when stored with it. */
  encoded?: Readonly<Record<string, Buffer>>;
}

// A handful of distinct Accept-Encoding values reach a gateway (one per HTTP client library):
// each is parsed once. Bounded so that a client sending random values cannot grow it.
const MEMO_LIMIT = 256;

export interface Represent {
  (raw: Request, answer: Answer, head: boolean): Response | Promise<Response>;
  /** Before a page is fetched: the coding this request will ask for is in demand (stored with the page). */
  expect(raw: Request): void;
}

export function representation(coder: BodyCoder): Represent {
  if (!coder) throw new Error('representation: a body coder is required');
  const negotiated = new Map<string, ContentCoding | 'identity'>();

  function codingFor(accept: string | null): ContentCoding | 'identity' {
    if (!accept) return 'identity';
    let coding = negotiated.get(accept);
    if (coding === undefined) {
      coding = negotiateEncoding(accept, coder.offered);
      if (negotiated.size >= MEMO_LIMIT) negotiated.clear();
      negotiated.set(accept, coding);
    }
    if (coding !== 'identity') coder.demand(coding);
    return coding;
  }

  function send(status: number, headers: Record<string, string>, bytes: Buffer, coding: ContentCoding | 'identity', head: boolean): Response {
    if (coding !== 'identity') headers['content-encoding'] = coding;
    headers['content-length'] = String(bytes.byteLength);
    return new Response(head ? null : bytes, { status, headers });
  }

  function represent(raw: Request, answer: Answer, head: boolean): Response | Promise<Response> {
    const { status, headers } = answer;
    const body = typeof answer.body === 'string' ? Buffer.from(answer.body) : answer.body;
    if (body === null) return new Response(null, { status, headers });
    const compressible = coder.worth(headers['content-type'], body.byteLength);
    const coding = compressible ? codingFor(raw.headers.get('accept-encoding')) : 'identity';
    // Whoever caches this answer must key it by Accept-Encoding too.
    if (compressible) headers.vary = 'Accept-Encoding';
    if (status === 200 && (raw.method === 'GET' || raw.method === 'HEAD')) {
      const etag = entityTag(answer.digest ?? coder.digest(body), coding);
      headers.etag = etag;
      if (ifNoneMatchNames(raw.headers.get('if-none-match'), etag)) {
        // RFC 9110 §15.4.5: the 200's metadata (ETag, Vary, Cache-Control...), no content.
        delete headers['content-type'];
        return new Response(null, { status: 304, headers });
      }
    }
    if (coding === 'identity') return send(status, headers, body, coding, head);
    const stored = answer.encoded?.[coding];
    if (stored) return send(status, headers, stored, coding, head);
    // An answer built now (no digest) is compressed for this answer only.
    const form = answer.digest !== undefined ? coder.lateForm(answer.digest, body, coding) : coder.encode(body, coding);
    if (Buffer.isBuffer(form)) return send(status, headers, form, coding, head);
    return form.then(
      (bytes) => send(status, headers, bytes, coding, head),
      // zlib failing on a buffer is not expected; identity is always a correct answer.
      () => {
        delete headers.vary;
        return send(status, headers, body, 'identity', head);
      },
    );
  }

  return Object.assign(represent, {
    expect(raw: Request) {
      codingFor(raw.headers.get('accept-encoding'));
    },
  });
}
