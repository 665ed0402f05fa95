import { checkConfigCommand } from './check-config.js';
import { PROGRAM, type Command } from './command.js';
import { hashSecretCommand } from './hash-secret.js';
import { healthcheckCommand } from './healthcheck.js';
import type { CliIO } from './io.js';
import { purgeCommand } from './purge.js';
import { serveCommand } from './serve.js';
import { syncCommand } from './sync.js';
import { tokenCommand } from './token.js';
import { packageVersion } from '../observability/build-version.js';
import { warmCommand } from './warm.js';

export type { CliIO } from './io.js';
export type { Command } from './command.js';

export const COMMANDS: readonly Command[] = [serveCommand, checkConfigCommand, hashSecretCommand, tokenCommand, purgeCommand, syncCommand, warmCommand, healthcheckCommand];

export function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    `usage: ${PROGRAM} [COMMAND] [options]      (no command: serve)`,
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    `  ${'help'.padEnd(width)}  this text, or one command's: ${PROGRAM} help COMMAND`,
    '',
    `${PROGRAM} --version (or -v) prints the version.`,
    `Every command takes --help. Config files: --config FILE, else GATEWAY_CONFIG, else the bundled gateway.example.yaml.`,
  ].join('\n');
}

/** The whole command line: picks the command (serve when the first argument is an option or absent). */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  const [first, ...rest] = argv;
  // Only as the first argument: a command's own options never include -v.
  if (first === '--version' || first === '-v') {
    io.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  if (first === undefined || (first.startsWith('-') && first !== '--help' && first !== '-h')) return serveCommand.run(argv, io);
  if (first === '--help' || first === '-h' || first === 'help') {
    const topic = first === 'help' ? rest[0] : undefined;
    if (topic === undefined) {
      io.stdout.write(`${usage()}\n`);
      return 0;
    }
    const command = COMMANDS.find((c) => c.name === topic);
    if (!command) return unknown(topic, io);
    io.stdout.write(`${command.usage}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === first);
  return command ? command.run(rest, io) : unknown(first, io);
}

function unknown(name: string, io: CliIO): number {
  io.stderr.write(`${PROGRAM}: unknown command "${name}"\n\n${usage()}\n`);
  return 2;
}
