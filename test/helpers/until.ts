// Waiting in end-to-end tests for something another process or a background task makes true.

/** Polls `probe` until it returns something other than undefined; fails after `ms`, naming `what`. */
export async function until<T>(probe: () => Promise<T | undefined>, what: string, ms = 15_000, everyMs = 25): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
