// The package's version, for build_info and `--version`: package.json's, read from the one file npm
// publishes it in rather than copied into the source where it would drift. The file sits one
// level above both src/ (tsx, tests) and dist/ (the build, and the Docker image's /app, where
// the Dockerfile copies package.json beside dist/).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const PACKAGE_JSON = fileURLToPath(new URL('../../package.json', import.meta.url));

/** The package's version, e.g. `0.1.0`; `unknown` when package.json is missing or unreadable. */
export function packageVersion(file = PACKAGE_JSON): string {
  try {
    const { version } = JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown };
    return typeof version === 'string' && /^[\w.+-]{1,64}$/.test(version) ? version : 'unknown';
  } catch {
    return 'unknown';
  }
}
