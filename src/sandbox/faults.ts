// Queue of injected faults. Each entry applies to the next `times` data requests whose
// path contains `match`; entries are consumed in the order they were injected.

import type { SandboxFault } from './types.js';

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

export const HTML_ERROR_PAGE = (status: number): string =>
  `<!DOCTYPE html>\n<html><head><title>${status} Bad Gateway</title></head>\n` +
  `<body><center><h1>${status} Bad Gateway</h1></center><hr><center>nginx</center></body></html>\n`;

/** Valid JSON cut off mid-record, like a proxy that dropped the end of a large page. */
export const TRUNCATED_JSON = '{"users":[{"sourcedId":"usr-00001","status":"active","dateLastModified":"2025-01-0';
