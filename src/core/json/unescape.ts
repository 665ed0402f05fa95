// What the strings of a JSON text say once a client's parser has read them: `\/aeries` is
// `/aeries`, `\u0073is.example.org` is `sis.example.org`. A search for a district's secrets
// and addresses in the raw text misses them in this form (PHP escapes every `/`, .NET every
// `+`), so the text is searched with its escapes decoded. Only for searching: the structure
// of the result is not JSON any more (an escaped quote becomes a quote).

const ESCAPE = /\\(?:u([0-9a-fA-F]{4})|(["\\/bfnrt]))/g;
const SIMPLE: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** `text` with every JSON string escape replaced by the character it stands for. */
export function unescapedJson(text: string): string {
  if (!text.includes('\\')) return text;
  return text.replace(ESCAPE, (_m, hex: string | undefined, simple: string | undefined) => (hex !== undefined ? String.fromCharCode(parseInt(hex, 16)) : SIMPLE[simple!]!));
}
