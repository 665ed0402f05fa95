import { ConfigError } from '../config/load.js';
import { defineCommand, PROGRAM } from './command.js';
import { loadConfig } from './config-file.js';
import { summarizeConfig } from './config-summary.js';
import { UsageError } from './io.js';

export const checkConfigCommand = defineCommand({
  name: 'check-config',
  summary: 'validate a config file and print a summary without secrets',
  usage: `usage: ${PROGRAM} check-config [--config FILE | FILE]

Loads and validates FILE (default: GATEWAY_CONFIG, else the bundled gateway.example.yaml), the
districtsDir files it names, ${'${VAR}'} from the environment and ${'${file:PATH}'} from files.
Valid: prints a summary with every secret left out (one line per district: where it was read
from), exit 0. Invalid: prints each problem as "file:line:col: path: message" on stderr, exit 1.`,
  args: { strings: ['config'], positionals: { max: 1, names: 'FILE' } },
  async run(args, io) {
    const named = args.string('config');
    // --config like every other command; the bare FILE of earlier releases still works.
    if (named !== undefined && args.positionals.length > 0) throw new UsageError('give the file once: --config FILE or FILE');
    let loaded;
    try {
      loaded = loadConfig(named ?? args.positionals[0], io);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      const n = err.issues.length;
      io.stderr.write(`${err.source}: invalid configuration (${n} problem${n === 1 ? '' : 's'})\n${err.issues.join('\n')}\n`);
      return 1;
    }
    io.stdout.write(`${summarizeConfig(loaded.file, loaded.config, loaded.districtFiles)}\n`);
    return 0;
  },
});
