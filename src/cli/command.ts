import { ConfigError } from '../config/load.js';
import { safeErrorFields } from '../observability/logger.js';
import { parseCommandArgs, type ArgSpec, type ParsedArgs } from './args.js';
import { CliFailure, UsageError, type CliIO } from './io.js';

export const PROGRAM = 'oneroster-gateway';

/** One subcommand: `run` never throws, it answers an exit status (0 ok, 1 failed, 2 usage). */
export interface Command {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** The command's synopsis and options, printed by --help and after a usage error. */
  readonly usage: string;
  run(argv: readonly string[], io: CliIO): Promise<number>;
}

export interface CommandDefinition {
  name: string;
  summary: string;
  usage: string;
  args: ArgSpec;
  run(args: ParsedArgs, io: CliIO): Promise<number>;
}

export function defineCommand(def: CommandDefinition): Command {
  return {
    name: def.name,
    summary: def.summary,
    usage: def.usage,
    async run(argv, io) {
      try {
        const args = parseCommandArgs(argv, def.args);
        if (args.help) {
          io.stdout.write(`${def.usage}\n`);
          return 0;
        }
        return await def.run(args, io);
      } catch (err) {
        return reportFailure(def, err, io);
      }
    },
  };
}

function reportFailure(def: CommandDefinition, err: unknown, io: CliIO): number {
  const prefix = `${PROGRAM} ${def.name}`;
  if (err instanceof UsageError) {
    io.stderr.write(`${prefix}: ${err.message}\n\n${def.usage}\n`);
    return 2;
  }
  if (err instanceof CliFailure) {
    io.stderr.write(`${prefix}: ${err.message}\n`);
    return 1;
  }
  if (err instanceof ConfigError) {
    // The issues are `path: message` lines that never quote a value.
    io.stderr.write(`${prefix}: ${err.message}\n`);
    return 1;
  }
  // No message or stack: either may quote a URL or a credential; name and code are enough to act on.
  io.stderr.write(`${prefix}: failed (${JSON.stringify(safeErrorFields(err))})\n`);
  return 1;
}
