import { ConfigError } from '../config/load.js';
import { defineCommand, PROGRAM } from './command.js';
import { loadConfig } from './config-file.js';
import { summarizeConfig } from './config-summary.js';

export const checkConfigCommand = defineCommand({
  name: 'check-config',
  summary: 'validate a config file and print a summary without secrets',
  usage: `usage: ${PROGRAM} check-config [FILE]

Loads and validates FILE (default: GATEWAY_CONFIG, else the bundled gateway.example.yaml) with
${'${VAR}'} substitution from the environment. Valid: prints a summary with every secret left out,
exit 0. Invalid: prints each problem as "path: message" on stderr, exit 1.`,
  args: { positionals: { max: 1, names: 'FILE' } },
  async run(args, io) {
    let loaded;
    try {
      loaded = loadConfig(args.positionals[0], io);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      const n = err.issues.length;
      io.stderr.write(`${err.source}: invalid configuration (${n} problem${n === 1 ? '' : 's'})\n${err.issues.join('\n')}\n`);
      return 1;
    }
    io.stdout.write(`${summarizeConfig(loaded.file, loaded.config)}\n`);
    return 0;
  },
});
