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

export type SandboxFault =
  | { kind: 'status'; status: number; body?: string; headers?: Record<string, string> }
  | { kind: 'html'; status?: number }
  | { kind: 'badJson' }
  | { kind: 'reset' }
  | { kind: 'delay'; ms: number }
  | { kind: 'hang' };

export interface SandboxHit {
  method: string;
  path: string;
  query: string;
  status: number; // 0 while pending, and for reset/hang faults
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
  /** Faults apply to the next `times` (default 1) data requests whose path matches `match` (substring, default any). */
  injectFault(fault: SandboxFault, opts?: { times?: number; match?: string }): void;
  clearFaults(): void;
  revokeTokens(): void;
  readonly store: SandboxStore;
  close(): Promise<void>;
}
