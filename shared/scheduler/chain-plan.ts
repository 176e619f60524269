/**
 * The chain planner (DESIGN.md §8): given the open part of the job-run ledger, what starts,
 * retries or is skipped now. Pure: the scheduler stores what it returns and emits the ticks.
 *
 * Rules, per business date oldest first:
 * - within D, a job starts only when every job before it in CHAIN is done (completed or skipped);
 * - the first job of D starts only when every earlier date in the ledger is settled (all its jobs
 *   done), so the whole chain for D runs before D + 1 and every snapshot sees the loans as they
 *   stood on its date. A failure that spends its attempts therefore halts the chain until an
 *   operator re-runs the job (POST /scheduler/ticks): closing D + 1 over an unfinished D would
 *   give D's snapshots and tapes the wrong book;
 * - no job starts before its earliest start (chain-time.ts: notBefore on the day after D);
 * - a failed attempt is retried once its back-off has passed, while attempts remain;
 * - a started attempt with no report after `jobTimeoutMs` (its service died with the tick, or
 *   does not run the job at all) times out: it counts as a failed attempt;
 * - a job whose service no node runs is skipped, with the reason, and its downstream goes on —
 *   but only once `undeployedIsFinal` (the scheduler has had time to discover the cluster).
 */
import { CHAIN, type DailyJob } from "../contracts/scheduler";
import { earliestStart } from "./chain-time";
import { isDone, type JobRun } from "./job-run";

export interface PlanContext {
  now: Date;
  zone: string;
  /** Services some node runs now. */
  deployed: ReadonlySet<string>;
  /** False shortly after start, while remote nodes may not be discovered yet. */
  undeployedIsFinal: boolean;
  /** How long a started attempt may go without a report. */
  jobTimeoutMs: number;
}

export type PlanAction =
  | { kind: "start"; job: DailyJob; business_date: string; attempt: number }
  | { kind: "skip"; job: DailyJob; business_date: string; reason: string }
  | { kind: "time_out"; job: DailyJob; business_date: string; attempt: number };

export function planChain(runs: readonly JobRun[], ctx: PlanContext): PlanAction[] {
  const byDate = new Map<string, Map<DailyJob, JobRun>>();
  for (const run of runs) {
    if (!byDate.has(run.business_date)) byDate.set(run.business_date, new Map());
    byDate.get(run.business_date)!.set(run.job, run);
  }
  const actions: PlanAction[] = [];
  let earlierSettled = true;
  for (const date of [...byDate.keys()].sort()) {
    const rows = byDate.get(date)!;
    const { actions: dateActions, settled } = planDate(date, rows, earlierSettled, ctx);
    actions.push(...dateActions);
    earlierSettled = earlierSettled && settled;
  }
  return actions;
}

function planDate(date: string, rows: Map<DailyJob, JobRun>, earlierSettled: boolean, ctx: PlanContext) {
  const actions: PlanAction[] = [];
  let doneThrough = -1; // index of the last job done for D, counting the skips planned here
  for (const [i, link] of CHAIN.entries()) {
    const run = rows.get(link.job);
    if (!run) break; // a date's rows are written together; a missing one waits for them
    if (isDone(run.state)) {
      doneThrough = i;
      continue;
    }
    if (i === 0 && !earlierSettled) break;
    if (run.state === "started") {
      const silentSince = run.started_at ? new Date(run.started_at).getTime() : undefined;
      if (silentSince !== undefined && ctx.now.getTime() - silentSince >= ctx.jobTimeoutMs) {
        actions.push({ kind: "time_out", job: link.job, business_date: date, attempt: run.attempt });
      }
      break;
    }
    if (run.state === "failed") {
      const retryDue = run.attempt < run.max_attempt && run.next_attempt_at != null && new Date(run.next_attempt_at) <= ctx.now;
      if (retryDue) actions.push({ kind: "start", job: link.job, business_date: date, attempt: run.attempt + 1 });
      break;
    }
    // waiting: its upstream is done (or it is the first job and the earlier dates are settled)
    if (ctx.now < earliestStart(link.job, date, ctx.zone).toJSDate()) break;
    if (!ctx.deployed.has(link.service)) {
      if (!ctx.undeployedIsFinal) break;
      actions.push({ kind: "skip", job: link.job, business_date: date, reason: `service "${link.service}" is not deployed` });
      doneThrough = i;
      continue;
    }
    actions.push({ kind: "start", job: link.job, business_date: date, attempt: run.attempt + 1 });
    break;
  }
  return { actions, settled: doneThrough === CHAIN.length - 1 };
}
