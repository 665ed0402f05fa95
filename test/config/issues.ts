import { expect } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/load.js';

/** The issues a config text is refused with (it must be refused), each with its `file:line:col: ` place. */
export function placedIssuesOf(text: string, env: Record<string, string> = {}, source = 'test.yaml'): string[] {
  try {
    parseConfig(text, env, source);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  throw new Error('expected a ConfigError');
}

/** The issues as `path: message`: the place in test.yaml is left out (the position tests assert it). */
export function issuesOf(text: string, env: Record<string, string> = {}): string[] {
  return placedIssuesOf(text, env).map((i) => i.replace(/^test\.yaml(:\d+:\d+)?: /, ''));
}
