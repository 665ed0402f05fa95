// Command-line options of the bench scripts: `--name value` and `--flag`.
const argv = process.argv.slice(2);

/** The value after `--name`, or `def`. */
export const opt = (name, def) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined && !argv[i + 1].startsWith('--') ? argv[i + 1] : def;
};
export const num = (name, def) => Number(opt(name, def));
export const flag = (name) => argv.includes(`--${name}`);
