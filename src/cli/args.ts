import { parseArgs } from 'node:util';
import { UsageError } from './io.js';

export interface ArgSpec {
  /** Options that take a value: `--name VALUE` or `--name=VALUE`. */
  strings?: readonly string[];
  /** Options without a value. */
  flags?: readonly string[];
  /** How many positional arguments the command takes. */
  positionals?: { min?: number; max?: number; names?: string };
}

export interface ParsedArgs {
  positionals: string[];
  help: boolean;
  string(name: string): string | undefined;
  flag(name: string): boolean;
  /** An integer option in [min, max]; `fallback` when absent. */
  int(name: string, fallback: number, min: number, max: number): number;
}

// node:util parseArgs in strict mode does the reading (unknown options, missing values,
// `--` ends options); this wrapper turns its errors into usage errors and checks counts.
export function parseCommandArgs(argv: readonly string[], spec: ArgSpec): ParsedArgs {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const s of spec.strings ?? []) options[s] = { type: 'string' };
  for (const f of spec.flags ?? []) options[f] = { type: 'boolean' };
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true }) as typeof parsed;
  } catch (err) {
    throw new UsageError(usageMessage(err));
  }
  const { values, positionals } = parsed;
  const help = values.help === true;
  const { min = 0, max = 0, names = 'arguments' } = spec.positionals ?? {};
  if (!help && positionals.length < min) throw new UsageError(`missing ${names}`);
  if (!help && positionals.length > max) throw new UsageError(`unexpected argument: ${positionals[max]}`);
  return {
    positionals,
    help,
    string: (name) => {
      const v = values[name];
      return typeof v === 'string' ? v : undefined;
    },
    flag: (name) => values[name] === true,
    int(name, fallback, lo, hi) {
      const v = values[name];
      if (typeof v !== 'string') return fallback;
      const n = Number(v);
      if (!/^\d+$/.test(v.trim()) || n < lo || n > hi) throw new UsageError(`--${name} must be an integer from ${lo} to ${hi}`);
      return n;
    },
  };
}

function usageMessage(err: unknown): string {
  const e = err as { code?: string; message?: string };
  const option = /'(-[^' ]+)/.exec(e.message ?? '')?.[1];
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${option ?? ''}`.trim();
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return /does not take/.test(e.message ?? '') ? `${option} takes no value` : `${option} needs a value`;
    default:
      return e.message ?? 'invalid arguments';
  }
}
