// A sandbox district in its own process, so a benchmark measures the gateway, not a shared
// event loop: prints its origin on stdout, answers {cmd:'hits'} over IPC with its data-hit
// count, stops on SIGTERM.
//   node bench/sandbox-server.mjs '{"version":"v1p1","auth":{"type":"bearer","token":"t"}}'
import { startSandbox } from '../dist/sandbox/index.js';

const sandbox = await startSandbox(JSON.parse(process.argv[2] ?? '{}'));
process.stdout.write(`${sandbox.url}\n`);
process.on('message', (m) => {
  if (m?.cmd === 'hits') process.send?.({ hits: sandbox.hitCount() });
  if (m?.cmd === 'reset') {
    sandbox.resetHits();
    process.send?.({ hits: 0 });
  }
});
process.on('SIGTERM', () => sandbox.close().then(() => process.exit(0)));
