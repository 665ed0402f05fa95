// The one wrapper shape of the upstream layer (undici's model): a call to a district is a plain
// function, and every outbound concern is a function from the next call to a new one. None of
// them knows about closing or retiring a client: that belongs to the client at the bottom of
// the chain (src/upstream/chain.ts), and the composed district hands it out as it is.
import type { UpstreamClient, UpstreamRequest, UpstreamResponse } from './types.js';

/** One call, from the request to its answer. */
export type Dispatch<Req = UpstreamRequest, Res = UpstreamResponse> = (req: Req) => Promise<Res>;

/** One outbound concern around the next call: it may look, change, refuse, wait or call again. */
export type Interceptor<Req = UpstreamRequest, Res = UpstreamResponse> = (next: Dispatch<Req, Res>) => Dispatch<Req, Res>;

/** `interceptors` around `base`, the first outermost: the list reads in the order a request takes. */
export function compose<Req, Res>(interceptors: ReadonlyArray<Interceptor<Req, Res> | undefined | false>, base: Dispatch<Req, Res>): Dispatch<Req, Res> {
  let dispatch = base;
  for (let i = interceptors.length - 1; i >= 0; i--) {
    const interceptor = interceptors[i];
    if (interceptor) dispatch = interceptor(dispatch);
  }
  return dispatch;
}

/**
 * The client with one interceptor around its requests, for tests and tools that hold a single
 * client: everything else it has (close, retire, credentials) stays the client's own.
 */
export function intercept<C extends UpstreamClient>(client: C, interceptor: Interceptor): C {
  return { ...client, request: interceptor((req) => client.request(req)) };
}
