import { codeMinorForStatus, type CodeMinor } from '../errors.js';

// Upstream error payloads come in many shapes (reference §4): statusInfoSet array or
// object, a bare status object, imsx_codeMinor or imsx_CodeMinor, string or structure,
// 1.1 spaced values. Read them leniently.

const ALIASES: Record<string, CodeMinor> = {
  'full success': 'fullsuccess',
  'unknown object': 'unknownobject',
  'invalid data': 'invaliddata',
  invalid_data: 'invaliddata',
  unauthorized: 'unauthorisedrequest',
  unauthorised: 'unauthorisedrequest',
  unauthorizedrequest: 'unauthorisedrequest',
  invalid_blank_selection_field: 'invalid_selection_field',
};
const KNOWN: ReadonlySet<string> = new Set([
  'fullsuccess', 'invalid_filter_field', 'invalid_selection_field', 'invalid_sort_field', 'invaliddata', 'unauthorisedrequest',
  'forbidden', 'server_busy', 'unknownobject', 'internal_server_error', 'deletefailure',
]);

function normalizeCodeMinor(value: unknown): CodeMinor | undefined {
  if (typeof value !== 'string') return undefined;
  const v = value.trim().toLowerCase();
  if (KNOWN.has(v)) return v as CodeMinor;
  // Own properties only: a district's "__proto__" or "constructor" is not a code.
  return Object.hasOwn(ALIASES, v) ? ALIASES[v] : undefined;
}

// A hostile district may nest arrays thousands deep; the shapes above are at most three.
const MAX_DEPTH = 8;

function codeMinorOf(node: unknown, depth = 0): CodeMinor | undefined {
  if (depth > MAX_DEPTH) return undefined;
  if (typeof node === 'string') return normalizeCodeMinor(node);
  if (Array.isArray(node)) {
    for (const item of node.slice(0, 16)) {
      const found = codeMinorOf(item, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    return normalizeCodeMinor(o.imsx_codeMinorFieldValue) ?? codeMinorOf(o.imsx_codeMinorField, depth + 1);
  }
  return undefined;
}

export interface UpstreamStatusInfo {
  codeMinor: CodeMinor;
  description?: string;
}

// Read this much of an upstream description; the caller redacts it and cuts it shorter.
const MAX_DESCRIPTION = 2000;

function atWordEnd(cut: string): string {
  const space = Math.max(cut.lastIndexOf(' '), cut.lastIndexOf('\n'), cut.lastIndexOf('\t'));
  return space < 0 ? '' : cut.slice(0, space).trimEnd();
}

/** Reads an upstream error body; falls back to the HTTP status when the body says nothing. */
export function readUpstreamStatusInfo(status: number, body: unknown): UpstreamStatusInfo {
  let node: unknown = body;
  if (node && typeof node === 'object' && 'statusInfoSet' in node) {
    const set = (node as { statusInfoSet: unknown }).statusInfoSet;
    node = Array.isArray(set) ? set[0] : set;
  }
  const o = node && typeof node === 'object' ? (node as Record<string, unknown>) : {};
  const codeMinor = codeMinorOf(o.imsx_CodeMinor ?? o.imsx_codeMinor) ?? codeMinorForStatus(status);
  const raw = o.imsx_description;
  // As the district wrote it: it may quote the district's secrets and addresses, so the
  // caller redacts it (core/redact.ts) before any client sees it.
  const text = typeof raw === 'string' ? raw.trim() : '';
  // Cut before redaction only at a word boundary: the head of a secret that straddled the cut
  // would no longer match the secret, and redaction shortening what precedes it could bring
  // that head into the short text a client sees.
  const description = text.length <= MAX_DESCRIPTION ? text : atWordEnd(text.slice(0, MAX_DESCRIPTION));
  return description ? { codeMinor, description } : { codeMinor };
}
