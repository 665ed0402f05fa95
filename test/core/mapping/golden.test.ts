import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Version } from '../../../src/core/oneroster/endpoints.js';
import { mapRecord, mappingNeeds } from '../../../src/core/oneroster/mapping/index.js';
import type { Entity } from '../../../src/core/oneroster/model.js';
import { entitySchemas, expectValid } from '../../support/oneroster-schemas.js';
import { fixtureContext } from './context.js';

const DIR = new URL('../../fixtures/mapping/', import.meta.url);
const NAME = /^([A-Za-z]+)\.(v1p[12])-to-(v1p[12])(?:\.([a-z0-9-]+))?\.json$/;

interface Fixture {
  file: string;
  entity: Entity;
  from: Version;
  to: Version;
  description?: string;
  input: Record<string, unknown>;
  expected: Record<string, unknown>;
}

function loadFixtures(): Fixture[] {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const m = NAME.exec(file);
      if (!m) throw new Error(`fixture name ${file} is not {entity}.{from}-to-{to}[.{variant}].json`);
      const body = JSON.parse(readFileSync(new URL(file, DIR), 'utf8')) as Omit<Fixture, 'file' | 'entity' | 'from' | 'to'>;
      return { file, entity: m[1] as Entity, from: m[2] as Version, to: m[3] as Version, ...body };
    });
}

const fixtures = loadFixtures();
const schemaOf = (version: Version, entity: Entity) => (entitySchemas[version] as Record<string, Parameters<typeof expectValid>[0]>)[entity];

const ENTITIES: Entity[] = [
  'orgs', 'academicSessions', 'courses', 'classes', 'users', 'enrollments', 'demographics', 'categories', 'lineItems', 'results', 'resources',
];

describe('golden mapping fixtures', () => {
  it('cover every 1.1 entity in both directions', () => {
    for (const entity of ENTITIES) {
      for (const [from, to] of [['v1p1', 'v1p2'], ['v1p2', 'v1p1']] as const) {
        expect(fixtures.some((f) => f.entity === entity && f.from === from && f.to === to), `${entity} ${from}->${to}`).toBe(true);
      }
    }
  });

  describe.each(fixtures.map((f) => [f.file, f] as const))('%s', (_file, f) => {
    it('maps to exactly the expected record', () => {
      expect(mapRecord(f.entity, f.input, f.from, f.to, fixtureContext)).toStrictEqual(f.expected);
    });

    it('expected record is valid in the target version', () => {
      expectValid(schemaOf(f.to, f.entity)!, f.expected, `${f.file} expected`);
    });

    if (f.from === 'v1p2') {
      it('input is a valid 1.2 record (a 1.2 server sends no quirks)', () => {
        expectValid(schemaOf('v1p2', f.entity)!, f.input, `${f.file} input`);
      });
    }

    it('does not modify its input and is deterministic', () => {
      const before = structuredClone(f.input);
      const first = mapRecord(f.entity, f.input, f.from, f.to, fixtureContext);
      expect(f.input).toStrictEqual(before);
      expect(mapRecord(f.entity, f.input, f.from, f.to, fixtureContext)).toStrictEqual(first);
    });
  });
});

describe('mappingNeeds for the fixtures', () => {
  const fixture = (file: string): Fixture => fixtures.find((f) => f.file === file)!;

  it('asks for the org types of a 1.1 administrator\'s orgs, only when mapping to 1.2', () => {
    const admin = fixture('users.v1p1-to-v1p2.json').input;
    const student = fixture('users.v1p1-to-v1p2.student.json').input;
    const needs = mappingNeeds('users', [admin, student], 'v1p1', 'v1p2');
    expect([...needs.orgs].sort()).toEqual(['dist-1', 'sch-1']);
    expect(needs.classes.size).toBe(0);
    expect(mappingNeeds('users', [admin], 'v1p1', 'v1p1').orgs.size).toBe(0);
  });

  it('asks for the school of a 1.1 line item\'s class', () => {
    const needs = mappingNeeds('lineItems', [fixture('lineItems.v1p1-to-v1p2.json').input], 'v1p1', 'v1p2');
    expect([...needs.classes]).toEqual(['cls-1']);
    expect(needs.orgs.size).toBe(0);
    const back = mappingNeeds('lineItems', [fixture('lineItems.v1p2-to-v1p1.json').input], 'v1p2', 'v1p1');
    expect(back.classes.size + back.orgs.size).toBe(0);
  });
});
