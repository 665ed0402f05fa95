import { ConfigError, loadConfigFile } from '../config/load.js';
import { StartupError } from '../core/errors.js';
import { createLogger, closeLogger, parseLogLevel, safeErrorFields } from '../observability/logger.js';
import { generatedAdminToken } from './admin-token.js';
import { defineCommand, PROGRAM } from './command.js';
import { configPath } from './config-file.js';
import { CliFailure, type CliIO } from './io.js';

export const serveCommand = defineCommand({
  name: 'serve',
  summary: 'start the gateway (the default command)',
  usage: `usage: ${PROGRAM} [serve] [--config FILE]

Starts the OneRoster gateway. The config file comes from --config, else GATEWAY_CONFIG,
else the bundled gateway.example.yaml (a demo district served by a built-in sandbox).
SIGHUP reloads the config file; SIGTERM or SIGINT drain and stop.
LOG_LEVEL: fatal, error, warn, info (the default), debug (adds a line per upstream attempt),
trace or silent.`,
  args: { strings: ['config'] },
  run: (args, io) => serve(args.string('config'), io),
});

/** Resolves with the exit status once a signal has stopped the gateway. */
async function serve(explicitConfig: string | undefined, io: CliIO): Promise<number> {
  const logLevel = parseLogLevel(io.env.LOG_LEVEL);
  if ('error' in logLevel) throw new CliFailure(logLevel.error);
  // In production pino keeps its own fast writer on fd 1; tests hand in a stream.
  const logger = createLogger({
    level: logLevel.level,
    ...(io.stdout !== process.stdout ? { destination: io.stdout } : {}),
  });
  const file = configPath(explicitConfig, io);
  const withAdminToken = generatedAdminToken(io.stderr);
  const config = withAdminToken(loadConfigFile(file, io.env));
  logger.info({ msg: 'config loaded', file, districts: config.districts.length, clients: config.auth.clients.length });
  if (/change-me/i.test(config.auth.tokenSecret)) {
    logger.warn({ msg: 'auth.tokenSecret is the example default: set GATEWAY_TOKEN_SECRET before exposing this gateway' });
  }

  let gateway;
  let sandboxes;
  try {
    // Loaded here, not at the top: the other commands start without the whole gateway. The
    // config's built-in sandboxes start beside it; the gateway itself never imports them.
    const [{ startGateway }, { startSandboxes }] = await Promise.all([import('../gateway.js'), import('../sandbox-host.js')]);
    sandboxes = await startSandboxes(config, logger);
    gateway = await startGateway(sandboxes.resolve(config), { logger });
  } catch (err) {
    await sandboxes?.close();
    // A StartupError is written for the operator (a listener's or the mirror store's host and port). Anything
    // else: no message or stack, they may quote internal paths; the name and code are enough.
    const why = err instanceof StartupError ? err.message : `(${JSON.stringify(safeErrorFields(err))})`;
    io.stderr.write(`${PROGRAM}: failed to start: ${why}\n`);
    return 1;
  }
  const running = gateway;
  const host = sandboxes;
  const signals = io.signals ?? process;
  return new Promise<number>((resolveExit) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ msg: 'shutting down', signal });
      running
        .close()
        .then(() => host.close())
        .then(
          () => 0,
          (err: unknown) => {
            logger.error({ msg: 'shutdown failed', ...safeErrorFields(err) });
            return 1;
          },
        )
        // Every access line of the drained requests is written before the process exits.
        .then((code) => closeLogger(logger).then(() => resolveExit(code)));
    };
    // SIGHUP: read the file again; only a valid one replaces the running config.
    let reloading = Promise.resolve();
    signals.on('SIGHUP', () => {
      reloading = reloading.then(async () => {
        if (stopping) return;
        let next;
        try {
          next = withAdminToken(loadConfigFile(file, io.env));
        } catch (err) {
          const problems = err instanceof ConfigError ? err.issues : ['the file could not be read'];
          logger.error({ msg: 'config reload refused: the running config stays', file, problems });
          running.reloadRefused();
          return;
        }
        const problems = (err: unknown) => [err instanceof Error ? err.message : 'unknown'];
        let resolved;
        try {
          // A district on a sandbox this process did not start cannot be built: refused, the old set
          // serves. reload() is never reached, so the refusal is counted here (config_reloads_total).
          resolved = host.resolve(next);
        } catch (err) {
          logger.error({ msg: 'config reload refused: the running config stays', file, problems: problems(err) });
          running.reloadRefused();
          return;
        }
        try {
          // reload() counts its own failures.
          const { restartNeeded } = await running.reload(resolved);
          if (restartNeeded.length > 0) logger.warn({ msg: 'config changes that take effect at the next restart', sections: restartNeeded });
        } catch (err) {
          logger.error({ msg: 'config reload refused: the running config stays', file, problems: problems(err) });
        }
      });
    });
    signals.on('SIGTERM', () => stop('SIGTERM'));
    signals.on('SIGINT', () => stop('SIGINT'));
  });
}
