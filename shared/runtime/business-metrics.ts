/**
 * Business metrics (DESIGN.md §12, issue 13 point 4), registered by name on a broker's metric
 * registry and exported with moleculer's own through the Prometheus text (shared/runtime/
 * prometheus.ts; every `app.*` metric is included). Services record with the helpers below; each
 * helper registers the metric on first use, so no service has to register anything at start.
 *
 * Prometheus names are the moleculer names with dots turned into underscores
 * (`app.payments.booked` → `app_payments_booked`); k8s/grafana/loan-platform.json charts them.
 * Counters count since the process started: chart them with rate()/increase(), which handle restarts.
 */
import type { ServiceBroker } from "moleculer";

type MetricType = "counter" | "gauge";

interface MetricSpec {
  type: MetricType;
  description: string;
  labelNames: string[];
  unit?: string;
}

/** Every business metric: name → type, labels, meaning. */
export const BUSINESS_METRICS = {
  "app.payments.booked": { type: "counter", description: "Payments booked on loans (recoveries after charge-off included)", labelNames: ["program_type", "type"] },
  "app.cob.runs": { type: "counter", description: "Close-of-business runs finished, by outcome", labelNames: ["status"] },
  "app.cob.loans": { type: "counter", description: "Loans closed by close of business", labelNames: [] },
  "app.cob.duration.seconds": { type: "gauge", description: "Duration of the last close-of-business run", labelNames: [], unit: "seconds" },
  "app.cob.loans_per_second": { type: "gauge", description: "Loans per second of the last close-of-business run", labelNames: [] },
  "app.cob.business_date": { type: "gauge", description: "Business date of the last completed close of business (Unix seconds, midnight UTC)", labelNames: [], unit: "seconds" },
  "app.jobs.runs": { type: "counter", description: "Daily chain jobs finished, by job and outcome", labelNames: ["job", "status"] },
  "app.jobs.duration.seconds": { type: "gauge", description: "Duration of the last run of each daily chain job", labelNames: ["job"], unit: "seconds" },
  "app.events.consumer_lag": { type: "gauge", description: "Durable events not yet acknowledged by a consumer (pending + in flight)", labelNames: ["consumer", "subject"] },
  "app.events.dead_letters": { type: "counter", description: "Durable events dead-lettered after their last delivery failed", labelNames: ["consumer", "subject"] },
  "app.tapes.runs": { type: "counter", description: "Loan tape runs finished, by outcome and format", labelNames: ["status", "format"] },
  "app.tapes.rows": { type: "counter", description: "Rows written to loan tapes", labelNames: ["format"] },
} as const satisfies Record<string, MetricSpec>;

export type BusinessMetricName = keyof typeof BUSINESS_METRICS;

/** The Prometheus name of a moleculer metric name (what the Prometheus reporter writes). */
export function prometheusName(name: string): string {
  return name.replace(/[.-]/g, "_");
}

type Metrics = ServiceBroker["metrics"];

/** Registers every business metric not registered yet (idempotent: re-registering would reset values). */
export function registerBusinessMetrics(broker: Pick<ServiceBroker, "metrics">): void {
  const metrics: Metrics = broker.metrics;
  if (!metrics?.isEnabled?.()) return;
  for (const [name, spec] of Object.entries(BUSINESS_METRICS)) {
    if (!metrics.hasMetric(name)) metrics.register({ name, ...spec, labelNames: [...spec.labelNames] } as any);
  }
}

function metricsOf(broker: Pick<ServiceBroker, "metrics">): Metrics | undefined {
  const metrics = broker.metrics;
  if (!metrics?.isEnabled?.()) return undefined;
  if (!metrics.hasMetric("app.payments.booked")) registerBusinessMetrics(broker);
  return metrics;
}

/** loans: one payment booked (call once per booked payment, not on an idempotent replay). */
export function recordPaymentBooked(broker: Pick<ServiceBroker, "metrics">, labels: { program_type: string; type?: "payment" | "recovery" }): void {
  metricsOf(broker)?.increment("app.payments.booked", { program_type: labels.program_type, type: labels.type ?? "payment" });
}

/** loans: a close-of-business run for one business date finished (per instance, for the loans it closed). */
export function recordCloseOfBusiness(
  broker: Pick<ServiceBroker, "metrics">,
  run: { business_date: string; loans: number; seconds: number; status: "completed" | "failed" },
): void {
  const m = metricsOf(broker);
  if (!m) return;
  m.increment("app.cob.runs", { status: run.status });
  m.increment("app.cob.loans", {}, run.loans);
  m.set("app.cob.duration.seconds", run.seconds);
  m.set("app.cob.loans_per_second", run.seconds > 0 ? run.loans / run.seconds : 0);
  if (run.status === "completed") m.set("app.cob.business_date", Date.parse(`${run.business_date}T00:00:00Z`) / 1000);
  recordJobRun(broker, { job: "close_of_business", seconds: run.seconds, status: run.status });
}

/** Any daily chain job (auto_assign, snapshots, tapes, close_of_business) finished a run. */
export function recordJobRun(broker: Pick<ServiceBroker, "metrics">, run: { job: string; seconds: number; status: "completed" | "failed" }): void {
  const m = metricsOf(broker);
  if (!m) return;
  m.increment("app.jobs.runs", { job: run.job, status: run.status });
  m.set("app.jobs.duration.seconds", run.seconds, { job: run.job });
}

/** tapes: one tape run finished. */
export function recordTapeRun(broker: Pick<ServiceBroker, "metrics">, run: { status: "completed" | "failed"; format: string; rows?: number }): void {
  const m = metricsOf(broker);
  if (!m) return;
  m.increment("app.tapes.runs", { status: run.status, format: run.format });
  if (run.rows) m.increment("app.tapes.rows", { format: run.format }, run.rows);
}

/** shared/events: the backlog of one durable consumer. */
export function recordConsumerLag(broker: Pick<ServiceBroker, "metrics">, consumer: string, subject: string, pending: number): void {
  metricsOf(broker)?.set("app.events.consumer_lag", pending, { consumer, subject });
}

/** shared/events: one event dead-lettered by a consumer. */
export function recordDeadLetter(broker: Pick<ServiceBroker, "metrics">, consumer: string, subject: string): void {
  metricsOf(broker)?.increment("app.events.dead_letters", { consumer, subject });
}
