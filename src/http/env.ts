import type { GatewayClient } from '../auth/clients.js';
import type { Scope } from '../core/oneroster/scopes.js';

/** Per-request values the middleware hands to routes. */
export interface AppEnv {
  Variables: {
    requestId: string;
    client: GatewayClient;
    /** The token's scopes that the client still holds in the current config. */
    scopes: readonly Scope[];
  };
}
