import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SCOPES, oauth1Sandbox, startStack, type Stack } from '../helpers/stack.js';
import { expectValid, statusInfoSchemas } from '../support/oneroster-schemas.js';

// DELETE /admin/cache/districts/{id}/{collection}[/{sourcedId}]: the collection name is user
// input, and only a real collection (or an alias of one) may name what is purged. Names that
// a plain-object lookup would find on Object.prototype used to answer 200 and purge nothing.

const ADMIN = 'admin-token-0123456789abcdefghij';
const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '%5F%5Fproto%5F%5F'];
let stack: Stack;
let token: string;

beforeAll(async () => {
  stack = await startStack({
    districts: [{ id: 'springfield', sandbox: oauth1Sandbox({ users: 30 }) }],
    clients: [{ clientId: 'app', clientSecret: 'app-secret-value', districts: ['springfield'], scopes: ALL_SCOPES }],
    cache: { ttlSeconds: 600 },
    admin: { token: ADMIN },
  });
  token = await stack.token('app', 'app-secret-value');
});
afterAll(() => stack?.close());

const sandbox = () => stack.sandboxes.springfield!;
const read = () => stack.http.get('/ims/oneroster/v1p1/users?limit=3').set('authorization', `Bearer ${token}`);
const purge = (rest: string) => stack.http.delete(`/admin/cache/districts/springfield/${rest}`).set('authorization', `Bearer ${ADMIN}`);

describe('admin purge of a collection', () => {
  it('answers 404 for Object.prototype and unknown names and leaves the cache alone; a real collection is purged', async () => {
    expect((await read()).headers['x-cache']).toBe('MISS');
    expect((await read()).headers['x-cache']).toBe('HIT');
    sandbox().resetHits();

    for (const name of [...PROTOTYPE_NAMES, 'widgets', 'Users']) {
      for (const rest of [name, `${name}/usr-00001`]) {
        const res = await purge(rest);
        expect([rest, res.status]).toEqual([rest, 404]);
        // The gateway's own routes answer in the 1.2 status-info shape.
        expectValid(statusInfoSchemas.v1p2, res.body, `${rest} error`);
        expect(res.body.imsx_CodeMinor.imsx_codeMinorField[0].imsx_codeMinorFieldValue).toBe('unknownobject');
      }
      expect([name, (await read()).headers['x-cache']]).toEqual([name, 'HIT']);
    }
    expect(sandbox().hitCount()).toBe(0);

    const done = await purge('users');
    expect([done.status, done.body]).toEqual([200, { purged: { district: 'springfield', collection: 'users' } }]);
    expect((await read()).headers['x-cache']).toBe('MISS');
    expect(sandbox().hitCount('/ims/oneroster/v1p1/users')).toBe(1);
    expect((await read()).headers['x-cache']).toBe('HIT');

    // An alias purges its base collection.
    const alias = await purge('students');
    expect([alias.status, alias.body]).toEqual([200, { purged: { district: 'springfield', collection: 'users' } }]);
    expect((await read()).headers['x-cache']).toBe('MISS');
  });
});
