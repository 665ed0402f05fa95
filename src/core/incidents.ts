// One log line per change of state, not one per attempt: a district whose breaker stays open or
// whose sync keeps failing for the same cause is worth a warning when it starts, a reminder now
// and then, and a line when it recovers. With hundreds of districts, a warning per attempt
// buries the one that matters. A cause that changes while failing (a timeout, then the refusals
// of the breaker it opened) is one incident: the reminder shows the latest cause.
// Pure: the caller passes the clock's reading and writes the line.

export type IncidentNote =
  /** The key started failing (warn). */
  | { kind: 'entered'; cause: string }
  /** Still failing, at most once per `summaryEveryMs`; `cause` is the latest one (warn). */
  | { kind: 'still'; cause: string; firstCause: string; since: number; attempts: number }
  /** Back to normal after failing since `since` (info). */
  | { kind: 'recovered'; cause: string; since: number; attempts: number };

export interface Incidents {
  /** One more failed attempt of `key`: a note when the state changed or a reminder is due. */
  failed(key: string, cause: string, nowMs: number): IncidentNote | undefined;
  /** A successful attempt: a note when `key` was failing. */
  ok(key: string): Extract<IncidentNote, { kind: 'recovered' }> | undefined;
  /** Whether `key` is failing now, and why. */
  cause(key: string): string | undefined;
}

export interface IncidentOptions {
  /** A reminder of a lasting failure at most this often. Default 15 minutes. */
  summaryEveryMs?: number;
  /** Failing keys remembered at once (the oldest is forgotten first). Default 10,000. */
  maxKeys?: number;
}

interface Incident {
  firstCause: string;
  cause: string;
  since: number;
  attempts: number;
  toldAt: number;
}

export function createIncidents(options: IncidentOptions = {}): Incidents {
  const summaryEveryMs = options.summaryEveryMs ?? 15 * 60_000;
  const maxKeys = options.maxKeys ?? 10_000;
  if (!(summaryEveryMs > 0)) throw new RangeError(`incidents: summaryEveryMs must be positive, got ${summaryEveryMs}`);
  if (!(Number.isSafeInteger(maxKeys) && maxKeys >= 1)) throw new RangeError(`incidents: maxKeys must be an integer >= 1, got ${maxKeys}`);
  const open = new Map<string, Incident>();

  return {
    failed(key, cause, nowMs) {
      const was = open.get(key);
      if (was) {
        was.attempts++;
        was.cause = cause;
        if (nowMs - was.toldAt < summaryEveryMs) return undefined;
        was.toldAt = nowMs;
        return { kind: 'still', cause, firstCause: was.firstCause, since: was.since, attempts: was.attempts };
      }
      // Insertion order: the first key is the oldest incident, forgotten first.
      if (open.size >= maxKeys) open.delete(open.keys().next().value!);
      open.set(key, { firstCause: cause, cause, since: nowMs, attempts: 1, toldAt: nowMs });
      return { kind: 'entered', cause };
    },
    ok(key) {
      const was = open.get(key);
      if (!was) return undefined;
      open.delete(key);
      return { kind: 'recovered', cause: was.cause, since: was.since, attempts: was.attempts };
    },
    cause: (key) => open.get(key)?.cause,
  };
}

/** What each kind of note says: the `msg` of its log line. */
export interface IncidentMessages {
  entered: string;
  still: string;
  recovered: string;
}

/** The log line of a note, with `fields` (the district...) first; times as ISO strings. */
export function incidentLine(note: IncidentNote, messages: IncidentMessages, fields: object): { level: 'warn' | 'info'; line: Record<string, unknown> } {
  const level = note.kind === 'recovered' ? 'info' : 'warn';
  if (note.kind === 'entered') return { level, line: { msg: messages.entered, ...fields, cause: note.cause } };
  const told = { cause: note.cause, since: new Date(note.since).toISOString(), attempts: note.attempts };
  const first = note.kind === 'still' && note.firstCause !== note.cause ? { firstCause: note.firstCause } : {};
  return { level, line: { msg: messages[note.kind], ...fields, ...told, ...first } };
}
