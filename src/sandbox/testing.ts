// The sandbox as the test suite uses it: everything the public entry offers, plus fault
// injection. Test-only: left out of the production build (tsconfig.build.json), so the image
// carries no way to make its demo district misbehave.

import { FaultQueue, applyFault, type SandboxFault } from './faults.js';
import { startSandbox as startPlainSandbox } from './index.js';
import type { Sandbox, SandboxOptions } from './types.js';

export * from './index.js';
export type { SandboxFault } from './faults.js';

export interface TestSandbox extends Sandbox {
  /** Faults apply to the next `times` (default 1) data requests whose path matches `match` (substring, default any). */
  injectFault(fault: SandboxFault, opts?: { times?: number; match?: string }): void;
  clearFaults(): void;
}

/** Starts a sandbox whose data requests can be made to fail on demand. */
export async function startSandbox(opts: SandboxOptions): Promise<TestSandbox> {
  const faults = new FaultQueue();
  const sandbox = await startPlainSandbox(opts, {
    beforeData: async (io) => {
      const fault = faults.take(io.path);
      return fault ? applyFault(fault, io, opts.version) : false;
    },
  });
  return Object.assign(sandbox, {
    injectFault: (fault: SandboxFault, o?: { times?: number; match?: string }) => faults.inject(fault, o),
    clearFaults: () => faults.clear(),
  });
}
