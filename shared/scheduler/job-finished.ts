/**
 * What a `scheduler.job.finished` report does to a ledger row (DESIGN.md §8). Pure: returns the
 * fields to set, or why the report changes nothing.
 */
import type { JobFinishedEvent } from "../contracts/scheduler";
import type { JobRun, RunState } from "./job-run";
import { retryDelayMs, type RetryPolicy } from "./retry";

export interface FinishedPatch {
  state: RunState;
  attempt: number;
  finished_at: Date;
  duration_ms: number;
  counts: Record<string, number>;
  error: string | null;
  next_attempt_at: Date | null;
}

export type FinishedOutcome =
  | { kind: "ignored"; reason: string }
  | { kind: "completed" | "retry" | "failed"; patch: FinishedPatch };

export function applyJobFinished(run: JobRun | undefined, event: JobFinishedEvent, now: Date, policy: Pick<RetryPolicy, "baseDelayMs" | "maxDelayMs">): FinishedOutcome {
  const attempt = event.attempt ?? run?.attempt ?? 1;
  if (run?.state === "completed") return { kind: "ignored", reason: "already completed" };
  // A report of an attempt the scheduler has moved past (a late answer to a retried tick).
  if (run && attempt < run.attempt) return { kind: "ignored", reason: `attempt ${attempt} is older than ${run.attempt}` };
  if (run?.state === "failed" && attempt === run.attempt && event.status === "failed") return { kind: "ignored", reason: "failure already recorded" };
  const base = { attempt, finished_at: now, duration_ms: event.duration_ms, counts: event.counts ?? {} };
  if (event.status === "completed") {
    return { kind: "completed", patch: { ...base, state: "completed", error: null, next_attempt_at: null } };
  }
  const error = event.error ?? "failed without a message";
  const maxAttempt = run?.max_attempt ?? attempt;
  if (attempt < maxAttempt) {
    const nextAt = new Date(now.getTime() + retryDelayMs(attempt, policy));
    return { kind: "retry", patch: { ...base, state: "failed", error, next_attempt_at: nextAt } };
  }
  return { kind: "failed", patch: { ...base, state: "failed", error, next_attempt_at: null } };
}
