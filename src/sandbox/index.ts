// Public entry of the OneRoster sandbox: a fake-but-realistic OneRoster 1.1 / 1.2 server
// used for the demo district and as the upstream in tests.

import { SandboxServer } from './server.js';
import type { Sandbox, SandboxHooks, SandboxOptions } from './types.js';

export type { Sandbox, SandboxAuth, SandboxHit, SandboxHooks, SandboxOptions, SandboxRequestIO, SandboxVersion } from './types.js';
export { SandboxStore } from './store.js';
export type * from './records.js';
export { COLLECTIONS } from './records.js';

export async function startSandbox(opts: SandboxOptions, hooks: SandboxHooks = {}): Promise<Sandbox> {
  validate(opts);
  const sandbox = new SandboxServer(opts, hooks);
  await sandbox.listen();
  return sandbox;
}

function validate(opts: SandboxOptions): void {
  if (opts.version !== 'v1p1' && opts.version !== 'v1p2') throw new TypeError(`sandbox: unknown version ${String(opts.version)}`);
  const users = opts.users ?? 500;
  if (!Number.isInteger(users) || users < 1) throw new RangeError('sandbox: users must be a positive integer');
  if (opts.maxPageSize !== undefined && !(opts.maxPageSize >= 1)) throw new RangeError('sandbox: maxPageSize must be >= 1');
  if (opts.latencyMs !== undefined && !(opts.latencyMs >= 0)) throw new RangeError('sandbox: latencyMs must be >= 0');
}
