/**
 * Tape schedules (DESIGN.md §11): `daily`, `weekly:<mon..sun>`, `monthly:<1..28|last>`,
 * `on_demand`. Pure: whether a schedule falls on business date D.
 */
import { DateTime } from "luxon";

export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;

export const SCHEDULE_PATTERN = "^(?:daily|on_demand|weekly:(?:mon|tue|wed|thu|fri|sat|sun)|monthly:(?:[1-9]|1[0-9]|2[0-8]|last))$";

export function isValidSchedule(schedule: string): boolean {
  return new RegExp(SCHEDULE_PATTERN).test(schedule);
}

/** Whether a tape on `schedule` is due on business date `date` (ISO). `on_demand` never is. */
export function isDue(schedule: string, date: string): boolean {
  if (!isValidSchedule(schedule)) return false;
  const d = DateTime.fromISO(date, { zone: "utc" });
  if (!d.isValid) return false;
  if (schedule === "daily") return true;
  if (schedule === "on_demand") return false;
  const [kind, arg] = schedule.split(":");
  if (kind === "weekly") return WEEKDAYS[d.weekday - 1] === arg;
  if (arg === "last") return d.day === d.daysInMonth;
  return d.day === Number(arg);
}
