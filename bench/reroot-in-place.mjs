// Re-rooting a 1000-record page's hrefs into a second buffer vs where it was read (the room the
// transport leaves after a declared answer), each starting from a fresh read buffer as a miss does.
//   npm run build && node bench/reroot-in-place.mjs [--rounds 200]
//   MALLOC_MMAP_THRESHOLD_=131072 node bench/reroot-in-place.mjs   (the Dockerfile's setting)
import { scanJson } from '../dist/core/json/scan.js';
import { byteRewrite, planReroot, writeReroot } from '../dist/core/oneroster/href-bytes.js';
import { num } from './args.mjs';

const rounds = num('rounds', 200);
const up = 'http://127.0.0.1:9999/ims/oneroster';
const r = byteRewrite({ upstreamBase: up, gatewayBase: 'http://127.0.0.1:8080/districts/d/ims/oneroster' });
const ref = (kind, id) => ({ href: `${up}/v1p1/${kind}/${id}`, sourcedId: id, type: kind.slice(0, -1) });
const page = Buffer.from(JSON.stringify({
  enrollments: Array.from({ length: 1000 }, (_, i) => ({
    sourcedId: `e-${i}`, status: 'active', dateLastModified: '2026-11-01T10:00:00.000Z', metadata: {}, role: 'student', primary: false,
    beginDate: '2026-08-15', endDate: '2027-06-15', user: ref('users', `u${i * 31}`), class: ref('classes', `c${i % 400}`), school: ref('orgs', `s${i % 7}`),
  })),
}));
const spans = scanJson(page, r.upstream).strings;
const chunks = [];
for (let i = 0; i < page.length; i += 65536) chunks.push(page.subarray(i, i + 65536));

/** A fresh read of the page, as the transport makes it: `room` bytes after it. */
function read(room) {
  const b = Buffer.allocUnsafeSlow(page.length + room);
  let at = 0;
  for (const c of chunks) at += c.copy(b, at);
  return b.subarray(0, page.length);
}
const plan = planReroot(page, spans, r);
const grow = plan.length - page.length;
const ways = {
  'a second buffer': () => writeReroot(read(0), plan, r, 0),
  'in place': () => writeReroot(read(grow + (page.length >> 4)), plan, r, grow + (page.length >> 4)),
};
if (!ways['in place']().body.equals(ways['a second buffer']().body)) throw new Error('the two ways differ');
console.log(`page ${page.length} bytes, ${plan.swaps.length} hrefs, +${grow} bytes; CPU ms per page (read included), ${rounds} rounds, MALLOC_MMAP_THRESHOLD_=${process.env.MALLOC_MMAP_THRESHOLD_ ?? '(glibc default)'}`);
for (let pass = 0; pass < 2; pass++) {
  for (const [name, fn] of Object.entries(ways)) {
    for (let i = 0; i < 20; i++) fn();
    const c0 = process.cpuUsage();
    for (let i = 0; i < rounds; i++) fn();
    const c = process.cpuUsage(c0);
    console.log(`  ${name}: ${((c.user + c.system) / 1000 / rounds).toFixed(2)}`);
  }
}
