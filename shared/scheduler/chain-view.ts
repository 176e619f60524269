/** The chain's progress for one business date, as GET /scheduler/chain shows it. Pure. */
import { CHAIN, type DailyJob } from "../contracts/scheduler";
import { earliestStart } from "./chain-time";
import type { RunState } from "./job-run";

export type ChainStatus = "not_scheduled" | "waiting" | "running" | "retrying" | "halted" | "completed";

export interface ChainRunRow {
  job: DailyJob;
  state: RunState;
  attempt: number;
  max_attempt: number;
  next_attempt_at?: Date | string | null;
}

export function chainView<R extends ChainRunRow>(businessDate: string, rows: readonly R[], zone: string) {
  const byJob = new Map(rows.map((r) => [r.job, r]));
  const jobs = CHAIN.map((link) => {
    const row = byJob.get(link.job);
    const notBefore = earliestStart(link.job, businessDate, zone).toISO();
    return row ? { ...row, service: link.service, not_before: notBefore } : { job: link.job, service: link.service, not_before: notBefore, state: "not_scheduled" as const };
  });
  return { business_date: businessDate, status: chainStatus(rows), jobs };
}

export function chainStatus(rows: readonly ChainRunRow[]): ChainStatus {
  if (!rows.length) return "not_scheduled";
  const failed = rows.filter((r) => r.state === "failed");
  if (failed.some((r) => r.attempt >= r.max_attempt || !r.next_attempt_at)) return "halted";
  if (failed.length) return "retrying";
  if (rows.some((r) => r.state === "started")) return "running";
  if (rows.length === CHAIN.length && rows.every((r) => r.state === "completed" || r.state === "skipped")) return "completed";
  return "waiting";
}
