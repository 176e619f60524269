/**
 * Writes to the job-run ledger (services/scheduler/models.ts). Every state change is a
 * conditional update on the row's current state and attempt, so two scheduler instances (or a
 * clock check racing a CronJob) cannot both start the same attempt.
 */
import type { Model } from "mongoose";
import { CHAIN, type DailyJob, type TickEvent } from "../../shared/contracts/scheduler";
import type { FinishedPatch } from "../../shared/scheduler/job-finished";
import { runId, type JobRun } from "../../shared/scheduler/job-run";

export interface LedgerRow extends JobRun {
  service: string;
  attempts: { attempt: number; state: string; started_at?: Date; finished_at?: Date; duration_ms?: number; error?: string }[];
  [field: string]: any;
}

/**
 * Adds the chain of `date` to the ledger: a `waiting` row per job not there yet. The first job
 * (and the job asked for, if any) carry the request's trigger; the others are emitted by the chain.
 * Returns the jobs it added.
 */
export async function ensureChain(
  model: Model<any>,
  date: string,
  opts: { trigger: TickEvent["trigger"]; requestedJob?: DailyJob; actor?: string; maxAttempts: number; now: Date },
): Promise<Set<DailyJob>> {
  const ops = CHAIN.map((link, i) => ({
    updateOne: {
      filter: { _id: runId(link.job, date) },
      update: {
        $setOnInsert: {
          job: link.job,
          service: link.service,
          business_date: date,
          state: "waiting",
          trigger: i === 0 || link.job === opts.requestedJob ? opts.trigger : "chain",
          ...(link.job === opts.requestedJob && opts.actor ? { requested_by: opts.actor } : {}),
          attempt: 0,
          max_attempt: opts.maxAttempts,
          created_at: opts.now,
          attempts: [],
        },
      },
      upsert: true,
    },
  }));
  const res = await model.bulkWrite(ops as any, { ordered: false });
  const added = new Set<DailyJob>();
  for (const id of Object.values(res.upsertedIds ?? {})) added.add(String(id).split(":")[0] as DailyJob);
  return added;
}

/** Claims attempt `attempt` of `run`; null when another writer moved the row first. */
export async function startAttempt(model: Model<any>, run: LedgerRow, attempt: number, now: Date): Promise<LedgerRow | null> {
  return model
    .findOneAndUpdate(
      { _id: run._id, state: run.state, attempt: run.attempt },
      {
        $set: { state: "started", attempt, started_at: now, emitted_at: now, next_attempt_at: null },
        $push: { attempts: { attempt, state: "started", started_at: now } },
      },
      { returnDocument: "after" },
    )
    .lean<LedgerRow>();
}

export async function skipRun(model: Model<any>, run: LedgerRow, reason: string, now: Date): Promise<boolean> {
  const res = await model.updateOne({ _id: run._id, state: "waiting" }, { $set: { state: "skipped", reason, finished_at: now } });
  return res.modifiedCount === 1;
}

/** Stores a finished report on the row and on its attempt's history entry; false on a lost race. */
export async function recordFinished(model: Model<any>, run: LedgerRow, patch: FinishedPatch): Promise<boolean> {
  const entry = { attempt: patch.attempt, state: patch.state, finished_at: patch.finished_at, duration_ms: patch.duration_ms, ...(patch.error ? { error: patch.error } : {}) };
  const attempts = run.attempts.some((a) => a.attempt === patch.attempt)
    ? run.attempts.map((a) => (a.attempt === patch.attempt ? { ...a, ...entry } : a))
    : [...run.attempts, entry];
  const res = await model.updateOne({ _id: run._id, state: run.state, attempt: run.attempt }, { $set: { ...patch, attempts } });
  return res.modifiedCount === 1;
}

/** An operator re-runs a skipped job, or a failed one whose attempts are spent: it waits again, with fresh attempts. */
export async function reopenRun(model: Model<any>, run: LedgerRow, maxAttempts: number, actor?: string): Promise<boolean> {
  const res = await model.updateOne(
    { _id: run._id, state: run.state, attempt: run.attempt },
    { $set: { state: "waiting", max_attempt: run.attempt + maxAttempts, next_attempt_at: null, reason: null, trigger: "admin", ...(actor ? { requested_by: actor } : {}) } },
  );
  return res.modifiedCount === 1;
}
