import type { Context } from 'hono';
import { GatewayError } from '../core/errors.js';
import type { CachedProxyResponse } from '../service/cached-proxy.js';
import { honoRouteLabel, type AccessLog } from './access-log.js';
import type { BearerIdentity } from './bearer-auth.js';
import type { AppEnv } from './env.js';
import { clientAnswer, type OneRosterRoute, type RoutedRequest } from './oneroster-route.js';
import type { Represent } from './representation.js';
import { requestIdOf } from './request-id.js';

export interface OneRosterPipelineOptions {
  /** The bearer check (bearer-auth.ts `bearerVerifier`). */
  verify: (authorization: string | null | undefined) => BearerIdentity;
  oneRoster: Pick<OneRosterRoute, 'route' | 'freshHit' | 'answer'>;
  access: AccessLog;
  /** The answer's bytes for this request (coding, entity tag, 304): representation.ts. */
  represent: Represent;
}

/**
 * What the synchronous first stage learned of a request: who asks and what for (`routed`), or
 * why it is refused (`refusal`, thrown on the full path into the one error envelope).
 */
export interface Admission {
  requestId: string;
  /** performance.now() when the request arrived. */
  started: number;
  who: BearerIdentity | undefined;
  routed: RoutedRequest | undefined;
  refusal: unknown;
}

/**
 * Every /ims/oneroster request, in three steps run once each: admission (request id, bearer
 * check, routing: synchronous), the answer (a fresh L1 hit synchronously, anything else through
 * the cached proxy), and the access line. `fastPath` runs before hono; what it does not answer it
 * hands, admitted, to `handler`, which hono calls for both OneRoster mounts (and which admits
 * by itself a request the fast path never saw, e.g. one whose path only matches once decoded).
 */
export function oneRosterPipeline(options: OneRosterPipelineOptions) {
  const { verify, oneRoster, access, represent } = options;
  if (!verify || !oneRoster || !access || !represent) throw new Error('oneRosterPipeline: verify, oneRoster, access and represent are required');
  // Keyed by the Request hono is given: it is the one `c.req.raw` returns.
  const handedOver = new WeakMap<Request, Admission>();

  function admit(raw: Request, requestId: string, started: number): Admission {
    let who: BearerIdentity | undefined;
    try {
      who = verify(raw.headers.get('authorization'));
      const routed = oneRoster.route(raw, { client: who.client, scopes: who.scopes, requestId });
      return { requestId, started, who, routed, refusal: undefined };
    } catch (refusal) {
      return { requestId, started, who, routed: undefined, refusal };
    }
  }

  /** The answer as the client gets it, and its access line. */
  function respond(raw: Request, a: Admission, routed: RoutedRequest, answer: CachedProxyResponse, head: boolean, upstreamMs: number): Response | Promise<Response> {
    const res = represent(raw, clientAnswer(answer, a.requestId), head);
    // A body compressed now keeps its status; a 304 is known at once.
    if (access.wanted()) access.write(lineOf(a, raw.method, routed.route, res instanceof Response ? res.status : answer.status, answer.cache, upstreamMs));
    return res;
  }

  /**
   * The commonest request, a GET of a page this process holds fresh, answered without hono's
   * router, middleware chain or a promise turn: @hono/node-server writes a synchronously
   * returned Response at once (BENCHMARKS.md, hit path). Undefined: hono answers, with this
   * admission (a refusal included, so that the one onError builds its response).
   */
  function fastPath(raw: Request): Response | Promise<Response> | undefined {
    if (!raw.url.includes('/ims/oneroster/')) return undefined;
    const a = admit(raw, requestIdOf(raw.headers.get('x-request-id')), performance.now());
    const routed = a.routed;
    if (routed && raw.method === 'GET') {
      try {
        const answer = oneRoster.freshHit(routed);
        if (answer) return respond(raw, a, routed, answer, false, 0);
      } catch {
        // The full path asks the cache again, and answers with the error if it stays.
      }
    }
    handedOver.set(raw, a);
    return undefined;
  }

  /** Hono's handler of both OneRoster mounts: the rest of the way; errors go on to onError. */
  async function handler(c: Context<AppEnv>): Promise<Response> {
    const a = handedOver.get(c.req.raw) ?? admit(c.req.raw, c.get('requestId'), performance.now());
    const method = c.req.method;
    let answer: CachedProxyResponse;
    try {
      if (!a.routed) throw a.refusal;
      // A page fetched now is stored in the coding this client asks for.
      represent.expect(c.req.raw);
      answer = await oneRoster.answer(c, a.routed);
    } catch (err) {
      // The status onError will answer with; anything but a GatewayError counts as a 500.
      const status = err instanceof GatewayError ? err.status : 500;
      if (access.wanted()) access.write(lineOf(a, method, a.routed?.route ?? honoRouteLabel(c, status), status, undefined, undefined));
      throw err;
    }
    return respond(c.req.raw, a, a.routed, answer, method === 'HEAD', answer.upstreamMs);
  }

  return {
    fastPath,
    handler,
    /** The request's id: the one its admission carries, so every line and header agree. */
    requestIdFor: (raw: Request) => handedOver.get(raw)?.requestId ?? requestIdOf(raw.headers.get('x-request-id')),
  };
}

function lineOf(a: Admission, method: string, route: string, status: number, cache: string | undefined, upstreamMs: number | undefined) {
  return { requestId: a.requestId, method, route, clientId: a.who?.client.clientId, district: a.routed?.district.id, status, cache, upstreamMs, started: a.started };
}

export type OneRosterPipeline = ReturnType<typeof oneRosterPipeline>;
