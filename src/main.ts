#!/usr/bin/env node
import { runCli } from './cli/index.js';
import { processIO } from './cli/io.js';
import { safeErrorFields } from './observability/logger.js';

// The `oneroster-gateway` program: `serve` (the default), check-config, hash-secret, token,
// purge, sync, warm. Each command answers an exit status; src/cli/ holds them.
runCli(process.argv.slice(2), processIO()).then(
  (code) => exit(code),
  (err: unknown) => {
    process.stderr.write(`oneroster-gateway: failed (${JSON.stringify(safeErrorFields(err))})\n`);
    exit(1);
  },
);

// Explicit exit: keep-alive sockets, Redis connections or a paused stdin must not hold the
// process open once a command has answered; the streams are flushed first.
function exit(code: number): void {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}
