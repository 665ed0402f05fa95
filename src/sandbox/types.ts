// Public option and result types of the sandbox. Kept apart from the implementation so the
// gateway (and its tests) can import types without pulling in the server.

import type { SandboxStore } from './store.js';

export type SandboxVersion = 'v1p1' | 'v1p2';

export type SandboxAuth =
  | { type: 'oauth1'; consumerKey: string; consumerSecret: string }
  | { type: 'oauth2'; clientId: string; clientSecret: string; tokenTtlSeconds?: number /* default 3600 */ }
  | { type: 'bearer'; token: string };

export interface SandboxOptions {
  version: SandboxVersion;
  auth: SandboxAuth;
  host?: string; // default '127.0.0.1'
  port?: number; // default 0 (ephemeral)
  seed?: number; // default 1; same seed => identical data
  users?: number; // default 500
  latencyMs?: number; // added delay on every data response, default 0
  maxPageSize?: number; // silently clamp `limit` to this (like Ed-Fi clamps to 500); default: no clamp
  now?: () => number; // clock in ms for token expiry, OAuth1 timestamps and dateLastModified bumps
  quirks?: SandboxQuirks; // vendor deviations real servers show; default none
}

/** Deviations from the spec seen in real OneRoster servers (reference §1.2, §3.1). */
export interface SandboxQuirks {
  /** `/students` answers `{"students":[...]}`, `/teachers` `{"teachers":[...]}`, `/terms` `{"terms":[...]}` (Moodle accepts these). */
  vendorWrappers?: boolean;
  /** Absent optional fields sent as null, as Aeries does (`"metadata": null`, `"middleName": null`). */
  nulls?: boolean;
  /** "true"/"false" sent as JSON booleans, as some servers do. */
  jsonBooleans?: boolean;
}

export interface SandboxHit {
  method: string;
  path: string;
  query: string;
  status: number; // 0 while pending, and for requests a hook ended without a reply (reset, hang)
  authorized: boolean;
}

export interface Sandbox {
  readonly version: SandboxVersion;
  readonly url: string;
  readonly baseUrl: string;
  readonly tokenUrl: string;
  readonly hits: SandboxHit[];
  tokenRequests: number;
  hitCount(pathPrefix?: string): number;
  resetHits(): void;
  revokeTokens(): void;
  readonly store: SandboxStore;
  close(): Promise<void>;
}

/**
 * What a hook may do with a data request before it is dispatched: answer it, drop the connection,
 * or wait. The test suite's fault injection (`testing.ts`) is built on this; the image has no faults.
 */
export interface SandboxRequestIO {
  readonly path: string;
  /** A body that is not a string is sent as JSON. */
  reply(status: number, headers: Record<string, string>, body: unknown): void;
  destroy(): void;
  sleep(ms: number): Promise<void>;
}

export interface SandboxHooks {
  /** Runs after authentication, before latency and dispatch; true when it ended the request. */
  beforeData?(io: SandboxRequestIO): Promise<boolean>;
}
