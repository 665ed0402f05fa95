// Fixed calendar of the generated school year. A fixed base date (not "now") keeps the
// data identical across runs; dateLastModified values fall in the year before it.

import type { Rng } from './prng.js';

export const BASE_DATE_MS = Date.UTC(2025, 5, 30); // 2025-06-30T00:00:00Z
const DAY_MS = 86_400_000;

const dayPrefix = new Map<number, string>();

/**
 * A timestamp within the `days` before the base date, with milliseconds like real SIS
 * exports. Built from a cached per-day prefix: a million Date#toISOString calls are slow.
 */
export function modifiedBefore(rng: Rng, days = 365): string {
  const ms = BASE_DATE_MS - Math.floor(rng() * days * DAY_MS);
  const day = Math.floor(ms / DAY_MS);
  let prefix = dayPrefix.get(day);
  if (prefix === undefined) {
    prefix = new Date(day * DAY_MS).toISOString().slice(0, 11);
    dayPrefix.set(day, prefix);
  }
  const t = ms - day * DAY_MS;
  const two = (n: number): string => (n < 10 ? `0${n}` : String(n));
  const milli = t % 1000;
  return `${prefix}${two(Math.floor(t / 3_600_000))}:${two(Math.floor(t / 60_000) % 60)}:${two(Math.floor(t / 1000) % 60)}.${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}

export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** A date (YYYY-MM-DD) uniformly between two dates, inclusive. */
export function dateBetween(rng: Rng, start: string, end: string): string {
  const span = Math.round((Date.parse(end) - Date.parse(start)) / DAY_MS);
  return addDays(start, Math.floor(rng() * (span + 1)));
}

export interface Period {
  readonly id: string;
  readonly title: string;
  readonly startDate: string;
  readonly endDate: string;
}
export interface Term extends Period {
  readonly gradingPeriods: readonly [Period, Period];
}
export interface SchoolYear extends Period {
  readonly schoolYear: string;
  readonly terms: readonly [Term, Term];
}

export const SCHOOL_YEAR: SchoolYear = {
  id: 'as-2025',
  title: '2024-2025 School Year',
  startDate: '2024-08-19',
  endDate: '2025-06-06',
  schoolYear: '2025',
  terms: [
    {
      id: 'as-2025-t1', title: 'Fall Semester 2024', startDate: '2024-08-19', endDate: '2024-12-20',
      gradingPeriods: [
        { id: 'as-2025-gp1', title: 'Quarter 1', startDate: '2024-08-19', endDate: '2024-10-18' },
        { id: 'as-2025-gp2', title: 'Quarter 2', startDate: '2024-10-21', endDate: '2024-12-20' },
      ],
    },
    {
      id: 'as-2025-t2', title: 'Spring Semester 2025', startDate: '2025-01-06', endDate: '2025-06-06',
      gradingPeriods: [
        { id: 'as-2025-gp3', title: 'Quarter 3', startDate: '2025-01-06', endDate: '2025-03-14' },
        { id: 'as-2025-gp4', title: 'Quarter 4', startDate: '2025-03-17', endDate: '2025-06-06' },
      ],
    },
  ],
};
