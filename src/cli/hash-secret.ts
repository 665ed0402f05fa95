import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { sha256Hex } from '../auth/clients.js';
import { defineCommand, PROGRAM } from './command.js';
import { CliFailure, type CliIO, type Input } from './io.js';

export const hashSecretCommand = defineCommand({
  name: 'hash-secret',
  summary: 'print the sha256 of a secret (clientSecretSha256, admin.tokenSha256)',
  usage: `usage: ${PROGRAM} hash-secret [SECRET]

Prints the SHA-256 (hex) of SECRET, for auth.clients[].clientSecretSha256 and admin.tokenSha256.
Without SECRET it reads the first line of stdin, so the secret stays out of shell history:
  printf '%s' "$SECRET" | ${PROGRAM} hash-secret`,
  args: { positionals: { max: 1, names: 'SECRET' } },
  async run(args, io) {
    const secret = args.positionals[0] ?? (await readSecret(io));
    if (!secret) throw new CliFailure('no secret given (an argument, or a line on stdin)');
    io.stdout.write(`${sha256Hex(secret)}\n`);
    return 0;
  },
});

async function readSecret(io: CliIO): Promise<string> {
  const stdin = io.stdin;
  if (!stdin) return '';
  if (stdin.isTTY) return promptHidden(io, stdin as unknown as NodeJS.ReadableStream);
  return firstLine(stdin);
}

/** The first line of a stream without its line ending; stops reading there. */
export async function firstLine(input: Input): Promise<string> {
  let text = '';
  for await (const chunk of input) {
    text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    const nl = text.indexOf('\n');
    if (nl >= 0) return text.slice(0, nl).replace(/\r$/, '');
  }
  return text.replace(/\r$/, '');
}

// On a terminal the secret is typed without echo: readline writes to a muted stream.
function promptHidden(io: CliIO, stdin: NodeJS.ReadableStream): Promise<string> {
  io.stderr.write('secret (not echoed): ');
  const muted = new Writable({ write: (_chunk, _enc, cb) => cb() });
  const rl = createInterface({ input: stdin, output: muted, terminal: true });
  return new Promise((resolve) => {
    rl.question('', (answer) => {
      rl.close();
      io.stderr.write('\n');
      resolve(answer);
    });
  });
}
