/**
 * When the chain for a business date may run (DESIGN.md §8, seed 000).
 *
 * Reading of "auto_assign not before 05:00 local time": the chain for business date D runs after
 * D has ended. close_of_business for D can start at 00:00 of D + 1 (business time zone) — it
 * closes the day, so it cannot run while D is still being traded — and auto_assign for D not
 * before 05:00 of D + 1, the seed's "daily task at 5:00 AM". A link's `notBefore` in CHAIN is
 * therefore a local time on the calendar day after D.
 */
import { DateTime } from "luxon";
import { CHAIN, type DailyJob } from "../contracts/scheduler";

/** The earliest instant `job` may start for `businessDate`: its notBefore on the next day, in `zone`. */
export function earliestStart(job: DailyJob, businessDate: string, zone: string): DateTime {
  const [hour, minute] = CHAIN.find((c) => c.job === job)!.notBefore.split(":").map(Number);
  return DateTime.fromISO(businessDate, { zone }).plus({ days: 1 }).set({ hour, minute, second: 0, millisecond: 0 });
}

/** The latest business date whose chain is due at `now`: yesterday in the business time zone. */
export function latestDueDate(zone: string, now: Date): string {
  return DateTime.fromJSDate(now).setZone(zone).minus({ days: 1 }).toISODate()!;
}

/** The business dates a clock check (or a CronJob asking for `target`) adds to the ledger, oldest first. */
export function datesToAdd(latestKnown: string | undefined, target: string, maxDays: number): string[] {
  if (latestKnown && latestKnown >= target) return [];
  // An empty ledger starts at the target: the scheduler does not invent history it never ran.
  const start = latestKnown ?? target;
  const out: string[] = latestKnown ? [] : [target];
  let d = DateTime.fromISO(start, { zone: "utc" }).plus({ days: 1 });
  const end = DateTime.fromISO(target, { zone: "utc" });
  while (d <= end) {
    out.push(d.toISODate()!);
    d = d.plus({ days: 1 });
  }
  return out.slice(-maxDays);
}

/** Whole days from `from` to `to` (ISO dates). */
export function daysBetween(from: string, to: string): number {
  return Math.round(DateTime.fromISO(to, { zone: "utc" }).diff(DateTime.fromISO(from, { zone: "utc" }), "days").days);
}
