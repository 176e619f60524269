/**
 * The daily chain (DESIGN.md §8) and its events. One chain per business date D:
 *
 *   close_of_business (loans) → auto_assign (portfolios, not before 05:00) → snapshots → tapes
 *
 * The scheduler emits the durable tick `scheduler.tick.<job>` for D only once the upstream job has
 * reported `completed` (or `skipped`) for D; the service that runs the job reports back with the
 * durable `scheduler.job.finished`. A tick is idempotent per (job, business_date): emitting it
 * twice — from the in-process clock, a Kubernetes CronJob and an admin backfill — delivers one
 * tick, and every job is idempotent per D. Catch-up runs missed dates oldest first, the whole
 * chain for D before D+1.
 */
export const CHAIN = [
  /** Rate resets, promotion boundaries, accrual, installments and statements due, delinquency, late fees, charge-off. */
  { job: "close_of_business", service: "loans", notBefore: "00:00" },
  /** Portfolio auto-assignment of unassigned loans by criteria (seed 000: 5:00 AM). */
  { job: "auto_assign", service: "portfolios", notBefore: "05:00" },
  /** Daily portfolio snapshots, program and vintage metrics. */
  { job: "snapshots", service: "snapshots", notBefore: "00:00" },
  /** Loan tapes whose schedule falls on D, generated and emailed. */
  { job: "tapes", service: "tapes", notBefore: "00:00" },
] as const;

export type DailyJob = (typeof CHAIN)[number]["job"];
export const JOB_NAMES = CHAIN.map((c) => c.job) as DailyJob[];

export const SchedulerEvents = {
  /** Durable; subject per job so each consumer subscribes to the jobs it runs. Payload TickEvent. */
  tick: (job: DailyJob) => `scheduler.tick.${job}`,
  /** Durable; a job's service reports the end of its run for D. Payload JobFinishedEvent. */
  jobFinished: "scheduler.job.finished",
} as const;

export interface TickEvent {
  tick_id: string; // `${job}:${business_date}`
  job: DailyJob;
  business_date: string;
  emitted_at: string;
  /** "clock" (the scheduler's own timer), "cron" (bin/tick.ts), "admin" (POST /scheduler/ticks), "catch_up", "chain" (upstream completed). */
  trigger: "clock" | "cron" | "admin" | "catch_up" | "chain";
  /** Attempt number: > 1 when the scheduler retries a failed job. */
  attempt?: number;
}

export interface JobFinishedEvent {
  job: DailyJob;
  business_date: string;
  status: "completed" | "failed";
  /** What the job did, e.g. { loans: 100000, late_fees: 12, charged_off: 1 }. */
  counts?: Record<string, number>;
  duration_ms: number;
  error?: string;
  /** The tick attempt this run answered. */
  attempt?: number;
  node_id?: string;
}
