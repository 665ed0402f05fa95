import { randomBytes } from 'node:crypto';
import type { GatewayConfig } from '../config/schema.js';
import { PROGRAM } from './command.js';
import type { Output } from './io.js';

/**
 * `admin.generateToken` with no token given (the demo, GATEWAY_ADMIN_TOKEN unset): one random
 * token for the life of the process, printed once on stderr when first made, so the README's
 * admin examples work on `npm start` and no fixed demo token exists anywhere to be guessed.
 * Every config `serve` runs (the first, and each SIGHUP reload) goes through the same function,
 * so a reload keeps the token. A config with a token, a tokenSha256 or no admin block is left as it is.
 */
export function generatedAdminToken(stderr: Output, random: () => string = () => randomBytes(24).toString('base64url')) {
  let token: string | undefined;
  return function withAdminToken(config: Readonly<GatewayConfig>): Readonly<GatewayConfig> {
    const admin = config.admin;
    if (!admin?.generateToken || admin.token !== undefined || admin.tokenSha256 !== undefined) return config;
    if (token === undefined) {
      token = random();
      stderr.write(`${PROGRAM}: demo admin token: ${token}   (made at start, printed once; set GATEWAY_ADMIN_TOKEN to choose it)\n`);
    }
    return { ...config, admin: { ...admin, token } };
  };
}
