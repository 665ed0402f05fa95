import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { unescapedJson } from '../../../src/core/json/unescape.js';

describe('unescapedJson', () => {
  it('gives every string of a JSON text as its parser reads it, whatever escapes the server chose', () => {
    // Each character escaped one way or another, as PHP, .NET and hand-written servers do.
    const escapeAll = (s: string) => [...s].map((c) => (c === '/' ? '\\/' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)).join('');
    fc.assert(
      fc.property(fc.array(fc.string(), { maxLength: 5 }), (strings) => {
        const text = `[${strings.map((s) => `"${escapeAll(s)}"`).join(',')}]`;
        const decoded = unescapedJson(text);
        for (const s of strings) expect(decoded).toContain(s);
        expect(unescapedJson(JSON.stringify(strings))).toBe(`[${strings.map((s) => `"${s}"`).join(',')}]`);
      }),
    );
    expect(unescapedJson('"\\\\u0073"')).toBe('"\\u0073"');
    expect(unescapedJson('no escapes')).toBe('no escapes');
  });
});
