import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killPrograms, listeningUrl, runProgram, waitFor } from './helpers/program.js';

// The built program as an operator runs it: `node dist/main.js` (npm test builds dist first).
afterEach(killPrograms);
const run = runProgram;
const baseOf = listeningUrl;

/** POST /oauth/token for the demo client, with Basic credentials. */
function demoTokenRequest(base: string): Promise<Response> {
  return fetch(`${base}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('demo-app:demo-app-secret').toString('base64')}` },
    body: 'grant_type=client_credentials',
  });
}

describe('the gateway process', () => {
  it('fails at start-up on a bad config, naming the field, without printing secrets', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      `auth: { tokenSecret: "${'k'.repeat(40)}" }
districts:
  - id: a
    version: v1p2
    baseUrl: https://x.example/ims/oneroster
    auth: { type: oauth2, clientId: id, clientSecret: very-secret-value-123 }
  - id: b
    version: v1p1
    baseUrl: https://y.example/ims/oneroster
    auth: { type: oauth1, consumerKey: \${MISSING_KEY}, consumerSecret: s }
`,
    );
    const p = run(['--config', file]);
    expect(await p.exited).toBe(1);
    expect(p.err()).toContain(`${file}:6:11: districts[a].auth.tokenUrl: required`);
    expect(p.err()).toContain(`${file}:10:40: districts[b].auth.consumerKey: environment variable MISSING_KEY is not set`);
    expect(p.err() + p.out()).not.toContain('very-secret-value-123');
    expect(p.out()).not.toContain('listening');
  });

  it('fails on a missing config file from GATEWAY_CONFIG', async () => {
    const p = run([], { GATEWAY_CONFIG: '/nonexistent/gateway.yaml' });
    expect(await p.exited).toBe(1);
    expect(p.err()).toContain('cannot read config file (ENOENT)');
  });

  it('starts on the embedded default, serves the demo district, and stops cleanly on SIGTERM', async () => {
    const p = run([], { PORT: '0', GATEWAY_HOST: '127.0.0.1' });
    const base = await baseOf(p);
    const tok = await demoTokenRequest(base);
    expect(tok.status).toBe(200);
    const { access_token } = (await tok.json()) as { access_token: string };
    const users = await fetch(`${base}/ims/oneroster/v1p1/users?limit=3`, { headers: { authorization: `Bearer ${access_token}` } });
    expect(users.status).toBe(200);
    const body = (await users.json()) as { users: unknown[] };
    expect(body.users).toHaveLength(3);
    expect(Number(users.headers.get('x-total-count'))).toBeGreaterThanOrEqual(450);
    expect(p.out()).toContain('auth.tokenSecret is the example default');
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.out()).toContain('"msg":"stopped"');
  });

  it('loses no access line at SIGTERM, even while its stdout reader lags behind', async () => {
    const p = run([], { PORT: '0', GATEWAY_HOST: '127.0.0.1' });
    const base = await baseOf(p);
    const tok = await demoTokenRequest(base);
    const { access_token } = (await tok.json()) as { access_token: string };
    // The log collector stalls: nothing reads the pipe (64 KiB) while 600 lines (~150 KB) are logged.
    p.child.stdout!.pause();
    const ids = Array.from({ length: 600 }, (_, i) => `lag-${i}`);
    for (let i = 0; i < ids.length; i += 50) {
      const batch = ids.slice(i, i + 50).map((id) =>
        fetch(`${base}/ims/oneroster/v1p1/users?limit=1&offset=${i % 7}`, { headers: { authorization: `Bearer ${access_token}`, 'x-request-id': id } }).then((r) => r.arrayBuffer().then(() => r.status)),
      );
      expect(new Set(await Promise.all(batch))).toEqual(new Set([200]));
    }
    p.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    p.child.stdout!.resume();
    expect(await p.exited).toBe(0);
    const logged = new Set(
      p
        .out()
        .split('\n')
        .filter((l) => l.includes('"msg":"request"'))
        .map((l) => (JSON.parse(l) as { requestId: string }).requestId),
    );
    expect(ids.filter((id) => !logged.has(id))).toEqual([]);
    expect(p.out()).toContain('"msg":"stopped"');
  }, 40_000);

  it('reloads its config file on SIGHUP: a good file applies without a restart, a bad one is refused and the old config serves', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-'));
    const file = join(dir, 'gateway.yaml');
    const config = (extraClient: string, extraDistrict: string) => `server: { port: 0, host: 127.0.0.1 }
auth:
  tokenSecret: "${'r'.repeat(40)}"
  clients:
    - { clientId: ops, clientSecret: ops-secret-value, districts: ["*"], scopes: [roster-core.readonly] }
${extraClient}
sandboxes:
  - { id: box, version: v1p1, auth: { type: bearer, token: box-token }, users: 20 }
districts:
  - { id: first, version: v1p1, baseUrl: "sandbox://box/ims/oneroster", auth: { type: bearer, token: box-token } }
${extraDistrict}
`;
    writeFileSync(file, config('', ''));
    const p = run(['--config', file]);
    const base = await baseOf(p);
    const tokenFor = async (id: string, secret: string) => {
      const res = await fetch(`${base}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `grant_type=client_credentials&client_id=${id}&client_secret=${secret}`,
      });
      return res.status === 200 ? ((await res.json()) as { access_token: string }).access_token : undefined;
    };
    const ops = (await tokenFor('ops', 'ops-secret-value'))!;
    const ids = async () =>
      ((await (await fetch(`${base}/districts`, { headers: { authorization: `Bearer ${ops}` } })).json()) as { districts: Array<{ id: string }> }).districts.map((d) => d.id);
    expect(await ids()).toEqual(['first']);
    expect(await tokenFor('late', 'late-secret-value')).toBeUndefined();

    // A good file: a new district and a new client, no restart.
    writeFileSync(
      file,
      config(
        '    - { clientId: late, clientSecret: late-secret-value, districts: [second], scopes: [roster-core.readonly] }',
        '  - { id: second, version: v1p1, baseUrl: "sandbox://box/ims/oneroster", auth: { type: bearer, token: box-token } }',
      ),
    );
    p.child.kill('SIGHUP');
    await waitFor(() => (p.out().includes('"msg":"config reloaded"') ? true : undefined));
    expect(await ids()).toEqual(['first', 'second']);
    const late = (await tokenFor('late', 'late-secret-value'))!;
    const users = await fetch(`${base}/ims/oneroster/rostering/v1p2/users?limit=2`, { headers: { authorization: `Bearer ${late}` } });
    expect(users.status).toBe(200);

    // A bad file: refused with the field named, the running config keeps serving.
    writeFileSync(file, config('', '  - { id: Bad_Id, version: v9, baseUrl: nope, auth: { type: bearer, token: x } }'));
    p.child.kill('SIGHUP');
    const refusal = await waitFor(() => p.out().split('\n').find((l) => l.includes('config reload refused')));
    expect(refusal).toContain('districts[Bad_Id].id');
    expect(await ids()).toEqual(['first', 'second']);
    expect(p.child.exitCode).toBeNull();
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  });
});
