/**
 * The daily jobs and the tick event (DESIGN.md §1: "a scheduler emitting daily ticks"). A tick
 * is idempotent per (job, business_date): emitting it twice, from the in-process clock and a
 * Kubernetes CronJob say, or re-running a backfill, delivers one tick.
 */
export const DAILY_JOBS = {
  /** Interest accrual, delinquency aging and late fees for every active loan. */
  daily_accrual: { at: "01:00" },
  /** Variable-rate resets due today (index + margin, clamped; LoanModification). */
  rate_reset: { at: "02:00" },
  /** Portfolio auto-assignment of unassigned loans by criteria (seed 000: 5:00 AM). */
  auto_assign: { at: "05:00" },
  /** Daily portfolio snapshots. */
  snapshots: { at: "06:00" },
  /** Scheduled loan tapes, generated and emailed. */
  tape_delivery: { at: "07:00" },
} as const;
export type DailyJob = keyof typeof DAILY_JOBS;
export const JOB_NAMES = Object.keys(DAILY_JOBS) as DailyJob[];

export const SchedulerEvents = {
  /** Durable event; subject per job so each consumer subscribes to the jobs it runs. */
  tick: (job: DailyJob) => `scheduler.tick.${job}`,
} as const;

export interface TickEvent {
  tick_id: string; // `${job}:${business_date}`
  job: DailyJob;
  business_date: string;
  emitted_at: string;
  /** "clock" (the scheduler's own timer), "cron" (bin/tick.ts), "admin" (POST /scheduler/ticks), "catch_up". */
  trigger: "clock" | "cron" | "admin" | "catch_up";
}
