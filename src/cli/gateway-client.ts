import type { GatewayConfig } from '../config/schema.js';
import type { ParsedArgs } from './args.js';
import { loadConfig } from './config-file.js';
import { CliFailure, UsageError, type CliIO } from './io.js';

// Talking to a running gateway: its URL, the admin token, one request helper that turns
// unreachable gateways and OneRoster status-info errors into one-line failures.

export interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
}

/** Loads the config once, and only when an option that needs it was not given. */
export function lazyConfig(args: ParsedArgs, io: CliIO): () => Readonly<GatewayConfig> {
  let config: Readonly<GatewayConfig> | undefined;
  return () => (config ??= loadConfig(args.string('config'), io).config);
}

/**
 * --url, else the config's port on loopback (or on the configured address when bound to one).
 * `admin`: calls to /admin go to admin.listen when the config has one, since the public
 * listener then answers 404 for /admin.
 */
export function gatewayUrl(args: ParsedArgs, config: () => Readonly<GatewayConfig>, listener: 'public' | 'admin' = 'public'): string {
  const given = args.string('url');
  if (given !== undefined) {
    if (!/^https?:\/\//i.test(given) || !URL.canParse(given)) throw new UsageError('--url must be an http(s):// URL');
    return given.replace(/\/+$/, '');
  }
  const cfg = config();
  const { host, port } = (listener === 'admin' ? cfg.admin?.listen : undefined) ?? cfg.server;
  const loopback = ['0.0.0.0', '::', '127.0.0.1', 'localhost'].includes(host);
  const h = loopback ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `http://${h}:${port}`;
}

/** --admin-token, else GATEWAY_ADMIN_TOKEN, else the config's admin.token. */
export function adminToken(args: ParsedArgs, io: CliIO, config: () => Readonly<GatewayConfig>): string {
  const token = args.string('admin-token') || io.env.GATEWAY_ADMIN_TOKEN || config().admin?.token;
  if (token) return token;
  const admin = config().admin;
  const why =
    admin?.tokenSha256 !== undefined
      ? 'the config holds only admin.tokenSha256'
      : admin?.generateToken
        ? 'the gateway generated its token at start: the "demo admin token" line on its stderr'
        : 'the config has no admin.token';
  throw new CliFailure(`no admin token: pass --admin-token or set GATEWAY_ADMIN_TOKEN (${why})`);
}

export async function request(io: CliIO, method: string, url: string, bearer: string): Promise<Answer> {
  const doFetch = io.fetch ?? globalThis.fetch;
  let res: Response;
  try {
    res = await doFetch(url, { method, headers: { authorization: `Bearer ${bearer}`, accept: 'application/json' } });
  } catch (err) {
    const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
    const message = typeof cause?.message === 'string' && !cause.message.includes('://') ? cause.message : 'network error';
    const code = typeof cause?.code === 'string' ? cause.code : message;
    throw new CliFailure(`cannot reach the gateway at ${new URL(url).origin} (${code})`);
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON: kept as text for the error message.
  }
  return { status: res.status, headers: res.headers, body };
}

/** `HTTP 404: No district with id "x".` from either status-info shape (1.2 flat, 1.1 statusInfoSet). */
export function describeError(answer: Answer): string {
  const b = answer.body as Record<string, unknown> | undefined;
  const set = Array.isArray(b?.statusInfoSet) ? (b.statusInfoSet[0] as Record<string, unknown> | undefined) : undefined;
  const description = [b?.imsx_description, set?.imsx_description, b?.error_description].find((d) => typeof d === 'string');
  return `HTTP ${answer.status}${description ? `: ${description as string}` : ''}`;
}

export function ensureOk(answer: Answer): Answer {
  if (answer.status < 200 || answer.status > 299) throw new CliFailure(describeError(answer));
  return answer;
}

/** A path segment, percent-encoded. */
export const seg = encodeURIComponent;
