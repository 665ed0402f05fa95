export type Json = Record<string, unknown>;

/** What a mapping needs beyond the record itself. */
export interface MapContext {
  /** The gateway's URL of the district's OneRoster root: `{gateway}/districts/{id}/ims/oneroster`. */
  hrefBase: string;
  /** An org's type (`district`, `school`, ...) when known: 1.1 `administrator` maps by it. */
  orgType(sourcedId: string): string | undefined;
  /** A class's school when known: 1.2 lineItems require `school`, 1.1 ones do not carry it. */
  classSchool(sourcedId: string): string | undefined;
}

/** The ids a page's mapping will ask its context about, so the caller can look them up first. */
export interface MapNeeds {
  orgs: Set<string>;
  classes: Set<string>;
}
