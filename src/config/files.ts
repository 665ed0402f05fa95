// The config loader's file reads, each bounded: the loader reads what an operator points it
// at (districtsDir, ${file:...}), and a wrong path must not make it read a log or a device whole.
import { closeSync, fstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Why a file could not be read: an errno code, or a bound it passes. The message never holds content. */
export class FileReadError extends Error {
  override readonly name = 'FileReadError';
  constructor(readonly reason: string) {
    super(reason);
  }
}

const code = (err: unknown) => (err as NodeJS.ErrnoException).code ?? 'unreadable';

/** The file's text; refused when it is a directory or holds more than maxBytes (a pipe, `--config <(...)`, is read). */
export function readBounded(path: string, maxBytes: number): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new FileReadError(code(err));
  }
  try {
    if (fstatSync(fd).isDirectory()) throw new FileReadError('a directory');
    // Read to one byte past the bound rather than trusting the size: /proc files report 0.
    const buf = Buffer.allocUnsafe(maxBytes + 1);
    let n = 0;
    for (let r = 1; r > 0 && n <= maxBytes; n += r) r = readSync(fd, buf, n, maxBytes + 1 - n, null);
    if (n > maxBytes) throw new FileReadError(`larger than ${maxBytes} bytes`);
    return buf.toString('utf8', 0, n);
  } catch (err) {
    throw err instanceof FileReadError ? err : new FileReadError(code(err));
  } finally {
    closeSync(fd);
  }
}

/**
 * The `*.yaml` / `*.yml` regular files of a directory (symlinks followed: Kubernetes mounts
 * ConfigMap keys as links), in file-name order. Dot-files are skipped: editors' swap files
 * and the `..data` links of a mounted ConfigMap.
 */
export function listYamlFiles(dir: string, maxFiles: number): string[] {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new FileReadError('not a directory');
    names = readdirSync(dir);
  } catch (err) {
    throw err instanceof FileReadError ? err : new FileReadError(code(err));
  }
  const yaml = names.filter((n) => /\.ya?ml$/i.test(n) && !n.startsWith('.'));
  if (yaml.length > maxFiles) throw new FileReadError(`more than ${maxFiles} YAML files`);
  return yaml
    .filter((n) => {
      try {
        return statSync(join(dir, n)).isFile();
      } catch {
        return true; // a dangling link: reported as unreadable by the read, with its name
      }
    })
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
