#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfigFile } from './config/load.js';
import { startGateway } from './gateway.js';
import { createLogger, safeErrorFields } from './observability/logger.js';

const USAGE = `usage: oneroster-gateway [--config FILE]

Starts the OneRoster gateway. The config file comes from --config, else GATEWAY_CONFIG,
else the bundled gateway.example.yaml (a demo district served by a built-in sandbox).`;

function configPath(argv: string[], env: NodeJS.ProcessEnv): string {
  const i = argv.findIndex((a) => a === '--config' || a.startsWith('--config='));
  if (i >= 0) {
    const value = argv[i]!.includes('=') ? argv[i]!.slice('--config='.length) : argv[i + 1];
    if (!value) throw new ConfigError(['--config: a file name is required'], 'command line');
    return resolve(value);
  }
  if (env.GATEWAY_CONFIG) return resolve(env.GATEWAY_CONFIG);
  // dist/main.js and src/main.ts both sit one level below the package root.
  const bundled = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'gateway.example.yaml');
  if (!existsSync(bundled)) throw new ConfigError(['no --config or GATEWAY_CONFIG given and gateway.example.yaml is missing'], bundled);
  return bundled;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const unknown = argv.filter((a, i) => a !== 'serve' && !a.startsWith('--config') && argv[i - 1] !== '--config');
  if (unknown.length > 0) {
    process.stderr.write(`unknown argument: ${unknown[0]}\n${USAGE}\n`);
    process.exit(2);
  }
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'info' });
  let file: string;
  let config;
  try {
    file = configPath(argv, process.env);
    config = loadConfigFile(file, process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`oneroster-gateway: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  logger.info({ msg: 'config loaded', file, districts: config.districts.length, clients: config.auth.clients.length });
  if (/change-me/i.test(config.auth.tokenSecret)) {
    logger.warn({ msg: 'auth.tokenSecret is the example default: set GATEWAY_TOKEN_SECRET before exposing this gateway' });
  }

  const gateway = await startGateway(config, { logger });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ msg: 'shutting down', signal });
    gateway.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ msg: 'shutdown failed', ...safeErrorFields(err) });
        process.exit(1);
      },
    );
  };
  // SIGHUP: read the file again; only a valid one replaces the running config.
  let reloading = Promise.resolve();
  process.on('SIGHUP', () => {
    reloading = reloading.then(async () => {
      if (stopping) return;
      let next;
      try {
        next = loadConfigFile(file, process.env);
      } catch (err) {
        const problems = err instanceof ConfigError ? err.issues : ['the file could not be read'];
        logger.error({ msg: 'config reload refused: the running config stays', file, problems });
        return;
      }
      try {
        const { restartNeeded } = await gateway.reload(next);
        if (restartNeeded.length > 0) logger.warn({ msg: 'config changes that take effect at the next restart', sections: restartNeeded });
      } catch (err) {
        logger.error({ msg: 'config reload refused: the running config stays', file, problems: [err instanceof Error ? err.message : 'unknown'] });
      }
    });
  });
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  // No stack trace: it may quote internal paths; the name and code are enough to act on.
  process.stderr.write(`oneroster-gateway: failed to start (${JSON.stringify(safeErrorFields(err))})\n`);
  process.exit(1);
});
