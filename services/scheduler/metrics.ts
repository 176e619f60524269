/**
 * The scheduler's Prometheus metrics (DESIGN.md §8, §12), registered on the broker's registry:
 *
 *   app_scheduler_job_runs_total{job,status}   attempts started, completed, failed (retried or final), skipped
 *   app_scheduler_job_failures_total{job}      failed attempts
 *   app_scheduler_job_duration_seconds{job}    histogram of the reported run durations
 *   app_scheduler_chain_lag_days               due business dates whose chain has not settled
 */
import type { ServiceBroker } from "moleculer";

export const SchedulerMetrics = {
  runs: "app.scheduler.job.runs.total",
  failures: "app.scheduler.job.failures.total",
  duration: "app.scheduler.job.duration.seconds",
  lag: "app.scheduler.chain.lag.days",
} as const;

export type RunStatus = "started" | "completed" | "failed" | "skipped";

export function registerSchedulerMetrics(broker: ServiceBroker): void {
  const metrics = broker.metrics as any;
  // Two scheduler services on one broker (tests) share the metrics; registering twice would reset them.
  const ensure = (opts: Record<string, unknown>) => metrics.getMetric(opts.name) ?? metrics.register(opts);
  ensure({ type: "counter", name: SchedulerMetrics.runs, labelNames: ["job", "status"], description: "Daily job runs by outcome", rate: false });
  ensure({ type: "counter", name: SchedulerMetrics.failures, labelNames: ["job"], description: "Failed daily job attempts", rate: false });
  ensure({
    type: "histogram",
    name: SchedulerMetrics.duration,
    labelNames: ["job"],
    description: "Duration of daily job runs as reported by their services",
    unit: "seconds",
    buckets: [1, 5, 15, 60, 300, 900, 1800, 3600],
    quantiles: false,
    rate: false,
  });
  ensure({ type: "gauge", name: SchedulerMetrics.lag, description: "Business dates due whose chain has not settled", unit: "days" });
}

export function countRun(broker: ServiceBroker, job: string, status: RunStatus): void {
  broker.metrics.increment(SchedulerMetrics.runs, { job, status });
  if (status === "failed") broker.metrics.increment(SchedulerMetrics.failures, { job });
}

export function observeDuration(broker: ServiceBroker, job: string, durationMs: number): void {
  broker.metrics.observe(SchedulerMetrics.duration, durationMs / 1000, { job });
}

export function setChainLag(broker: ServiceBroker, days: number): void {
  broker.metrics.set(SchedulerMetrics.lag, days);
}
