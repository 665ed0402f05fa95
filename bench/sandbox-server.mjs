// A sandbox district in its own process, so a benchmark measures the gateway, not a shared
// event loop: prints its origin on stdout, answers {cmd:'hits'} over IPC with its data-hit
// count, changes its users on {cmd:'mutate', quiet, update, remove, create} (counts; quiet updates do
// not move dateLastModified), stops on SIGTERM.
//   node bench/sandbox-server.mjs '{"version":"v1p1","auth":{"type":"bearer","token":"t"}}'
import { startSandbox } from '../dist/sandbox/index.js';

const sandbox = await startSandbox(JSON.parse(process.argv[2] ?? '{}'));
process.stdout.write(`${sandbox.url}\n`);
process.on('message', (m) => {
  if (m?.cmd === 'hits') process.send?.({ hits: sandbox.hitCount() });
  if (m?.cmd === 'mutate') {
    const users = sandbox.store.list('users');
    let at = 0;
    for (let i = 0; i < (m.quiet ?? 0); i++) sandbox.store.update('users', users[at++].sourcedId, { givenName: `Quietly ${i}` }, { timestamp: false });
    for (let i = 0; i < (m.update ?? 0); i++) sandbox.store.update('users', users[at++].sourcedId, { givenName: `Changed ${i}` });
    for (let i = 0; i < (m.remove ?? 0); i++) sandbox.store.remove('users', users[at++].sourcedId);
    for (let i = 0; i < (m.create ?? 0); i++) sandbox.store.put('users', { ...users[i], sourcedId: `bench-new-${Date.now()}-${i}` });
    process.send?.({ hits: sandbox.hitCount() });
  }
  if (m?.cmd === 'reset') {
    sandbox.resetHits();
    process.send?.({ hits: 0 });
  }
});
process.on('SIGTERM', () => sandbox.close().then(() => process.exit(0)));
