import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// dist/cli/*.js and src/cli/*.ts both sit two levels below the package root, and the image
// copies package.json beside dist/ (Dockerfile), so the version is read from the one file
// npm publishes it in rather than copied into the source where it would drift.
const PACKAGE_JSON = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json');

/** The package's version, e.g. `0.1.0`; `unknown` when package.json is missing or unreadable. */
export function packageVersion(file = PACKAGE_JSON): string {
  try {
    const { version } = JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown };
    return typeof version === 'string' && /^[\w.+-]{1,64}$/.test(version) ? version : 'unknown';
  } catch {
    return 'unknown';
  }
}
