/** What "today" is for the business: the calendar date in the configured time zone (DESIGN.md §2). */
import { DateTime } from "luxon";

export function businessToday(zone: string, now: DateTime = DateTime.utc()): string {
  return now.setZone(zone).toISODate()!;
}

const todayCache = new Map<string, { second: number; date: string }>();
/** businessToday, computed at most once a second per zone (a hot path asks several times a request). */
export function cachedBusinessToday(zone: string): string {
  const second = Math.floor(Date.now() / 1000);
  const hit = todayCache.get(zone);
  if (hit && hit.second === second) return hit.date;
  const date = businessToday(zone);
  todayCache.set(zone, { second, date });
  return date;
}

/** Whether the business clock in `zone` has passed `hhmm` on its current day. */
export function isPastTimeOfDay(zone: string, hhmm: string, now: DateTime = DateTime.utc()): boolean {
  const local = now.setZone(zone);
  const [h, m] = hhmm.split(":").map(Number);
  return local.hour > h || (local.hour === h && local.minute >= m);
}

/** Business dates from `from` (exclusive) to `to` (inclusive), oldest first. */
export function datesAfter(from: string, to: string): string[] {
  const out: string[] = [];
  let d = DateTime.fromISO(from, { zone: "utc" }).plus({ days: 1 });
  const end = DateTime.fromISO(to, { zone: "utc" });
  while (d <= end) {
    out.push(d.toISODate()!);
    d = d.plus({ days: 1 });
  }
  return out;
}
