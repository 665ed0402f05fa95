import { randomUUID } from 'node:crypto';

// What a client may choose as its request id: it goes into log lines and a response header.
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The client's X-Request-Id when it is a sane one, else a new id. */
export function requestIdOf(given: string | null | undefined): string {
  return given && REQUEST_ID.test(given) ? given : randomUUID();
}
