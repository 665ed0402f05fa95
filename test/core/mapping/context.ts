// Shared by the mapping tests: the MapContext the golden fixtures were written against.
import type { MapContext } from '../../../src/core/oneroster/mapping/index.js';

/** The gateway's URL of district d1's OneRoster root, as the fixtures' expected hrefs use it. */
export const HREF_BASE = 'https://gw.example.org/districts/d1/ims/oneroster';

/** Org types the gateway has looked up: one district, one school. */
export const FIXTURE_ORG_TYPES: Readonly<Record<string, string>> = { 'dist-1': 'district', 'sch-1': 'school' };

/** Class schools the gateway has looked up: one class. */
export const FIXTURE_CLASS_SCHOOLS: Readonly<Record<string, string>> = { 'cls-1': 'sch-1' };

const lookup = (table: Readonly<Record<string, string>>, id: string): string | undefined =>
  Object.hasOwn(table, id) ? table[id] : undefined;

export const fixtureContext: MapContext = {
  hrefBase: HREF_BASE,
  orgType: (id) => lookup(FIXTURE_ORG_TYPES, id),
  classSchool: (id) => lookup(FIXTURE_CLASS_SCHOOLS, id),
};
