import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { sandboxProcess, freePort } from './processes.mjs';
const sb = await sandboxProcess({ version: 'v1p1', auth: { type: 'bearer', token: 't' }, users: 500 });
writeFileSync('/tmp/gwp.yaml', JSON.stringify({ auth: { tokenSecret: 'b'.repeat(40), clients: [{ clientId: 'bench', clientSecret: 'bench-secret-x', districts: ['*'], scopes: ['roster-core.readonly'] }] }, cache: { ttlSeconds: 3600, deltaSync: { enabled: false } }, districts: [{ id: 'b', version: 'v1p1', baseUrl: sb.baseUrl, auth: { type: 'bearer', token: 't' } }] }));
const port = await freePort();
const child = spawn(process.execPath, ['--cpu-prof', '--cpu-prof-dir=/tmp/prof', 'dist/main.js', '--config', '/tmp/gwp.yaml'], { stdio: 'ignore', env: { ...process.env, LOG_LEVEL: 'warn', PORT: String(port) } });
const url = `http://127.0.0.1:${port}`;
for (let i = 0; i < 100; i++) { if (await fetch(url + '/readyz').then(r => r.ok, () => false)) break; await new Promise(r => setTimeout(r, 50)); }
const tok = (await (await fetch(url + '/oauth/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&client_id=bench&client_secret=bench-secret-x' })).json()).access_token;
const r = await autocannon({ url: url + '/districts/b/ims/oneroster/v1p1/users?limit=100', connections: 50, duration: 5, headers: { authorization: 'Bearer ' + tok } });
console.log(r.requests.average, r.non2xx);
child.kill('SIGINT'); sb.stop();
await new Promise(r => setTimeout(r, 1500));
process.exit(0);
