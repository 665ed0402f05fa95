import { expect } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/load.js';

/** The issues a config text is refused with (it must be refused). */
export function issuesOf(text: string, env: Record<string, string> = {}): string[] {
  try {
    parseConfig(text, env, 'test.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  throw new Error('expected a ConfigError');
}
