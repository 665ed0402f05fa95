// The version build_info reports: package.json's, read once at start-up. The file sits one
// level above both src/ (tsx, tests) and dist/ (the build, and the Docker image's /app).
import { readFileSync } from 'node:fs';

export function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' && /^[\w.+-]{1,64}$/.test(pkg.version) ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
