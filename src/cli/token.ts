import { defineCommand, PROGRAM } from './command.js';
import { loadConfig } from './config-file.js';
import { UsageError } from './io.js';
import { mintToken } from './mint-token.js';

export const tokenCommand = defineCommand({
  name: 'token',
  summary: 'mint an access token for a configured client',
  usage: `usage: ${PROGRAM} token --client ID [--scope "a b"] [--json] [--config FILE]

Signs a gateway access token for client ID with the config's auth.tokenSecret, as
POST /oauth/token would: --scope narrows the client's scopes (default: all of them).
Prints the bare token (TOKEN=$(${PROGRAM} token --client app)), or with --json
{access_token, token_type, expires_in, scope}.`,
  args: { strings: ['client', 'scope', 'config'], flags: ['json'] },
  async run(args, io) {
    const clientId = args.string('client');
    if (!clientId) throw new UsageError('--client is required');
    const { config } = loadConfig(args.string('config'), io);
    const minted = mintToken(config, clientId, args.string('scope'));
    io.stdout.write(args.flag('json') ? `${JSON.stringify(minted)}\n` : `${minted.access_token}\n`);
    return 0;
  },
});
