/**
 * The job side of the daily chain's contract (shared/contracts/scheduler.ts), for the services
 * that run a job (loans, portfolios, snapshots, tapes). Call it from the durable handler of the
 * job's tick:
 *
 *   mixins: [MongoMixin({...}), DurableEventsMixin({ subscriptions: { [SchedulerEvents.tick("auto_assign")]: "onAutoAssignTick" } })],
 *   methods: {
 *     onAutoAssignTick(event) { return runDailyJob(this, event, (tick) => this.autoAssign(tick.business_date)); },
 *   },
 *
 * It runs the job, times it and reports `scheduler.job.finished` durably, completed with the
 * counts the job returns or failed with its error. A failure is reported, not thrown: the
 * scheduler owns the retries (with back-off and a new attempt), so the tick itself is acked.
 * The report's id names the tick's attempt, so a retry's report is never taken for a duplicate.
 * The job must be idempotent per business date: a tick can be delivered again after a crash.
 */
import type { DeliveredEvent } from "../events/bus";
import { SchedulerEvents, type JobFinishedEvent, type TickEvent } from "../contracts/scheduler";

export interface DailyJobHost {
  publishDurable(subject: string, id: string, payload: unknown): Promise<void>;
  broker: { nodeID: string };
  logger: { error(...args: unknown[]): void };
}

/** The durable id of the report answering the tick delivered as `tickEventId`. */
export function jobFinishedEventId(tickEventId: string): string {
  return `${tickEventId}:finished`;
}

export async function runDailyJob(
  host: DailyJobHost,
  event: DeliveredEvent,
  run: (tick: TickEvent) => Promise<Record<string, number> | void>,
): Promise<JobFinishedEvent> {
  const tick = event.payload as TickEvent;
  const started = Date.now();
  const base = { job: tick.job, business_date: tick.business_date, attempt: tick.attempt ?? 1, node_id: host.broker.nodeID };
  let report: JobFinishedEvent;
  try {
    const counts = (await run(tick)) ?? {};
    report = { ...base, status: "completed", counts, duration_ms: Date.now() - started };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    host.logger.error(`${tick.job} for ${tick.business_date} (attempt ${base.attempt}) failed: ${error}`);
    report = { ...base, status: "failed", error, duration_ms: Date.now() - started };
  }
  await host.publishDurable(SchedulerEvents.jobFinished, jobFinishedEventId(event.id), report);
  return report;
}
