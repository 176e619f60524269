/**
 * The scheduler's job-run ledger (DESIGN.md §8): one row per (job, business date), keyed
 * `${job}:${business_date}`, walking
 *
 *   waiting ──▶ started ──▶ completed
 *      │           │
 *      │           └──▶ failed ──(back-off)──▶ started (attempt + 1) … until max_attempt
 *      └──▶ skipped (the job's service is not deployed: visible, with a reason; the chain goes on)
 */
import { CHAIN, type DailyJob, type TickEvent } from "../contracts/scheduler";

export const RUN_STATES = ["waiting", "started", "completed", "failed", "skipped"] as const;
export type RunState = (typeof RUN_STATES)[number];

/** What the planner and the report logic read of a ledger row. */
export interface JobRun {
  _id: string;
  job: DailyJob;
  business_date: string;
  state: RunState;
  /** Attempts started so far (0 while waiting for the first). */
  attempt: number;
  /** The last attempt allowed before a failure is final (raised when an admin re-runs it). */
  max_attempt: number;
  /** When a failed attempt may be retried; absent once the attempts are spent. */
  next_attempt_at?: Date | null;
  /** When the current attempt's tick was emitted. */
  started_at?: Date | null;
  /** What asked for this run: the emitted tick's trigger. */
  trigger: TickEvent["trigger"];
}

/** A job is done for D when it completed or was skipped: only then does its downstream start. */
export function isDone(state: RunState | undefined): boolean {
  return state === "completed" || state === "skipped";
}

export function runId(job: DailyJob, businessDate: string): string {
  return `${job}:${businessDate}`;
}

/**
 * The durable event id of a tick. The first attempt keeps the ledger's key (so the clock, a
 * CronJob and an admin asking for the same tick deliver it once); a retry needs a new id, or the
 * stream's dedupe and the consumer's processed-events record would swallow it.
 */
export function tickEventId(job: DailyJob, businessDate: string, attempt: number): string {
  return attempt <= 1 ? runId(job, businessDate) : `${runId(job, businessDate)}:attempt-${attempt}`;
}

export function serviceOf(job: DailyJob): string {
  return CHAIN.find((c) => c.job === job)!.service;
}

export function chainIndex(job: DailyJob): number {
  return CHAIN.findIndex((c) => c.job === job);
}
