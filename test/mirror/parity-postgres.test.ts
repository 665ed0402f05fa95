// The mirror parity suite (parity-suite.ts) on the PostgreSQL store: the same battery, with
// filters, sorts and pages evaluated in SQL.
import { afterAll, beforeAll, describe } from 'vitest';
import { paritySuite } from './parity-suite.js';
import { freshDatabase, postgresUrl, type TestDatabase } from './postgres-env.js';

const url = postgresUrl();

describe.runIf(url)('on PostgreSQL', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await freshDatabase(url!);
  });
  afterAll(async () => db?.dispose());
  paritySuite(() => db.url);
});
