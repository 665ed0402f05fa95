// Config reload in a running gateway (SIGHUP calls this): districts and clients change
// without a restart, unchanged districts keep serving, in-flight requests finish.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { GatewayConfig } from '../../src/config/schema.js';
import { ALL_SCOPES, bearerSandbox, oauth1Sandbox, startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
let token: string;
beforeAll(async () => {
  stack = await startStack({
    districts: [
      { id: 'slow', sandbox: bearerSandbox({ latencyMs: 400 }) },
      { id: 'other', sandbox: oauth1Sandbox() },
    ],
    clients: [{ clientId: 'app', clientSecret: 'app-secret-value', districts: ['*'], scopes: ALL_SCOPES }],
  });
  token = await stack.token('app', 'app-secret-value');
});
afterAll(() => stack?.close());

const get = (path: string) => stack.http.get(path).set('authorization', `Bearer ${token}`);
/** The running config with changes, validated like a file would be. */
const edited = (change: (raw: Record<string, any>) => void): GatewayConfig => {
  const raw = JSON.parse(JSON.stringify(stack.config));
  change(raw);
  return parseConfig(JSON.stringify(raw), {}, 'reload-test');
};

it('applies district and client changes without dropping an in-flight request', async () => {
  // `.then` sends it now (a supertest request is lazy); the upstream takes 400 ms.
  const inFlight = get('/districts/slow/ims/oneroster/v1p1/orgs?limit=2').then((r) => r);
  await new Promise((r) => setTimeout(r, 100));
  expect(stack.sandboxes.slow!.hits.map((h) => [h.path, h.status])).toEqual([['/ims/oneroster/v1p1/orgs', 0]]); // pending
  const { restartNeeded } = await stack.gateway.reload(
    edited((raw) => {
      raw.districts[0].name = 'Slow, renamed';
      raw.districts = raw.districts.filter((d: { id: string }) => d.id !== 'other');
      raw.auth.clients.push({ clientId: 'new', clientSecret: 'new-secret-value', districts: ['slow'], scopes: ['roster-core.readonly'] });
    }),
  );
  expect(restartNeeded).toEqual([]);
  const res = await inFlight;
  expect(res.status).toBe(200);
  expect(res.body.orgs).toHaveLength(2);
  const list = (await get('/districts')).body.districts;
  expect(list).toEqual([expect.objectContaining({ id: 'slow', name: 'Slow, renamed' })]);
  expect((await get('/districts/other/ims/oneroster/v1p1/orgs')).status).toBe(404);
  expect((await get('/districts/slow/ims/oneroster/v1p1/orgs?limit=2')).status).toBe(200);
  expect(await stack.token('new', 'new-secret-value')).toBeTruthy();
});

it('says which changes need a restart', async () => {
  const { restartNeeded } = await stack.gateway.reload(edited((raw) => (raw.auth.tokenSecret = 'z'.repeat(48))));
  expect(restartNeeded).toEqual(['auth.tokenSecret']);
  // Tokens signed with the running secret still work.
  expect((await get('/districts')).status).toBe(200);
});
