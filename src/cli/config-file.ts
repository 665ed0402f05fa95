import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, readConfigFile } from '../config/load.js';
import type { GatewayConfig } from '../config/schema.js';
import type { CliIO } from './io.js';

// dist/cli/*.js and src/cli/*.ts both sit two levels below the package root.
const BUNDLED = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'gateway.example.yaml');

/** The config file: the one named, else GATEWAY_CONFIG, else the bundled gateway.example.yaml. */
export function configPath(explicit: string | undefined, io: CliIO): string {
  const cwd = io.cwd ?? process.cwd();
  if (explicit !== undefined) {
    if (explicit.trim() === '') throw new ConfigError(['--config: a file name is required'], 'command line');
    return resolve(cwd, explicit);
  }
  if (io.env.GATEWAY_CONFIG) return resolve(cwd, io.env.GATEWAY_CONFIG);
  if (!existsSync(BUNDLED)) throw new ConfigError(['no --config or GATEWAY_CONFIG given and gateway.example.yaml is missing'], BUNDLED);
  return BUNDLED;
}

/** Reads and validates the config; throws ConfigError with every problem. */
export function loadConfig(
  explicit: string | undefined,
  io: CliIO,
): { file: string; config: Readonly<GatewayConfig>; districtFiles: readonly string[] } {
  const file = configPath(explicit, io);
  return { file, ...readConfigFile(file, io.env) };
}
