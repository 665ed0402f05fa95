// Injected faults, for the test suite only (left out of the production build with testing.ts).
// Each queued entry applies to the next `times` data requests whose path contains `match`;
// entries are consumed in the order they were injected.

import { codeForStatus, errorBody } from './errors.js';
import type { SandboxRequestIO, SandboxVersion } from './types.js';

export type SandboxFault =
  | { kind: 'status'; status: number; body?: string; headers?: Record<string, string> }
  | { kind: 'html'; status?: number }
  | { kind: 'badJson' }
  | { kind: 'reset' }
  | { kind: 'delay'; ms: number }
  | { kind: 'hang' };

interface Entry {
  fault: SandboxFault;
  remaining: number;
  match: string;
}

export class FaultQueue {
  private entries: Entry[] = [];

  inject(fault: SandboxFault, opts: { times?: number; match?: string } = {}): void {
    const times = opts.times ?? 1;
    if (!(times >= 1)) throw new RangeError('injectFault: times must be >= 1');
    this.entries.push({ fault, remaining: times, match: opts.match ?? '' });
  }

  clear(): void {
    this.entries = [];
  }

  /** The fault for this request, if any, using up one of its remaining applications. */
  take(path: string): SandboxFault | undefined {
    const entry = this.entries.find((e) => path.includes(e.match));
    if (!entry) return undefined;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.entries = this.entries.filter((e) => e !== entry);
    return entry.fault;
  }
}

/** Plays one fault on a request; true when the fault produced (or suppressed) the whole response. */
export async function applyFault(fault: SandboxFault, io: SandboxRequestIO, version: SandboxVersion): Promise<boolean> {
  switch (fault.kind) {
    case 'status':
      io.reply(fault.status, { ...fault.headers }, fault.body ?? errorBody(version, codeForStatus(fault.status), `injected fault: HTTP ${fault.status}`));
      return true;
    case 'html': {
      const status = fault.status ?? 502;
      io.reply(status, { 'Content-Type': 'text/html; charset=utf-8' }, HTML_ERROR_PAGE(status));
      return true;
    }
    case 'badJson':
      io.reply(200, { 'Content-Type': 'application/json; charset=utf-8' }, TRUNCATED_JSON);
      return true;
    case 'reset':
      io.destroy();
      return true;
    case 'hang':
      return true; // the sandbox's close() destroys the socket
    case 'delay':
      await io.sleep(fault.ms);
      return false;
  }
}

const HTML_ERROR_PAGE = (status: number): string =>
  `<!DOCTYPE html>\n<html><head><title>${status} Bad Gateway</title></head>\n` +
  `<body><center><h1>${status} Bad Gateway</h1></center><hr><center>nginx</center></body></html>\n`;

/** Valid JSON cut off mid-record, like a proxy that dropped the end of a large page. */
const TRUNCATED_JSON = '{"users":[{"sourcedId":"usr-00001","status":"active","dateLastModified":"2025-01-0';
