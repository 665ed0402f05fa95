// Field types shared by the config schema's sections.
import { z } from 'zod';
import { normalizeScope, SCOPES } from '../core/oneroster/scopes.js';

// Values substituted from ${VAR} arrive as strings; numbers and booleans written
// that way must still validate, so numeric and boolean fields accept their string form.
export const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.preprocess(
    (v) => (typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v),
    z.number().int().min(min).max(max),
  );
export const bool = () =>
  z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean());

export const nonEmpty = () => z.string().trim().min(1, 'required');
export const httpUrl = () =>
  z.string().refine((v) => /^(https?|sandbox):\/\/[^\s/]+/i.test(v) && URL.canParse(v), {
    message: 'must be an absolute http(s):// URL',
  });
const idPattern = /^[a-z0-9-]+$/;
export const districtId = () => z.string().regex(idPattern, 'must match [a-z0-9-]+');

export const scope = () =>
  z.string().transform((v, ctx) => {
    const s = normalizeScope(v);
    if (!s) {
      ctx.addIssue({ code: 'custom', message: `unknown scope; expected one of ${SCOPES.join(', ')}` });
      return z.NEVER;
    }
    return s;
  });
