/**
 * Issue 13 point 4: the Grafana dashboard in k8s/ parses, and every panel's query names only
 * metrics the system exports — the business metrics (shared/runtime/business-metrics.ts) and
 * moleculer's own, as a real broker registers them — under their Prometheus names.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ServiceBroker } from "moleculer";
import { parse } from "yaml";
import { prometheusName, registerBusinessMetrics } from "../../../shared/runtime/business-metrics";

const k8sDir = join(__dirname, "..", "..", "..", "k8s");
const DASHBOARD = "grafana/loan-platform.json";

/** Series names a metric of each type appears under in moleculer's Prometheus text. */
const SUFFIXES: Record<string, string[]> = {
  counter: ["", "_rate"],
  gauge: ["", "_rate"],
  info: [""],
  histogram: ["", "_bucket", "_sum", "_count", "_min", "_mean", "_variance", "_stddev", "_max", "_rate"],
};

async function exportedSeries(): Promise<Set<string>> {
  // Process metrics are skipped when NODE_ENV=test (Jest); every deployed node collects them.
  const broker = new ServiceBroker({ logger: false, metrics: { enabled: true, collectProcessMetrics: true } });
  await broker.start();
  registerBusinessMetrics(broker);
  const names = new Set<string>();
  for (const m of broker.metrics.list() as { name: string; type: string }[]) {
    for (const suffix of SUFFIXES[m.type] ?? [""]) names.add(prometheusName(m.name) + suffix);
  }
  await broker.stop();
  return names;
}

/** The metric names a PromQL expression reads: identifiers not followed by "(" that are not keywords, labels or durations. */
function metricNamesIn(expr: string): string[] {
  const bare = expr
    .replace(/\{[^}]*\}/g, "") // label matchers
    .replace(/\[[^\]]*\]/g, "") // range selectors
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ""); // label lists
  return [...bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)]
    .filter((m) => !bare.slice(m.index + m[0].length).trimStart().startsWith("(")) // functions
    .map((m) => m[0])
    .filter((id) => !["by", "without", "on", "ignoring", "bool", "and", "or", "unless", "offset"].includes(id));
}

describe("Grafana dashboard", () => {
  const dashboard = JSON.parse(readFileSync(join(k8sDir, DASHBOARD), "utf8"));
  const panels = (dashboard.panels as any[]).filter((p) => p.type !== "row");

  it("parses and has panels for every business area", () => {
    expect(dashboard.uid).toBe("loan-platform");
    expect(panels.length).toBeGreaterThanOrEqual(10);
    const exprs = panels.flatMap((p) => p.targets.map((t: any) => t.expr)).join("\n");
    for (const metric of ["app_payments_booked", "app_cob_duration_seconds", "app_cob_loans_per_second", "app_events_consumer_lag", "app_events_dead_letters", "app_tapes_runs"]) {
      expect(exprs).toContain(metric);
    }
  });

  it("names only metrics the system exports, in every panel's query", async () => {
    const exported = await exportedSeries();
    for (const panel of panels) {
      expect(panel.targets.length).toBeGreaterThan(0);
      for (const target of panel.targets) {
        const names = metricNamesIn(target.expr);
        expect([panel.title, names.length > 0]).toEqual([panel.title, true]);
        for (const name of names) expect([panel.title, name, exported.has(name)]).toEqual([panel.title, name, true]);
      }
    }
  });

  it("the query check catches a metric nobody exports", async () => {
    const exported = await exportedSeries();
    expect(metricNamesIn('sum by (job) (increase(app_jobs_runs{status="failed"}[1d]))')).toEqual(["app_jobs_runs"]);
    expect(metricNamesIn("rate(app_payments_bookd[5m])").every((n) => exported.has(n))).toBe(false);
  });

  it("ships in the kustomization as a config map for Grafana's dashboard sidecar", () => {
    const k = parse(readFileSync(join(k8sDir, "kustomization.yaml"), "utf8"));
    const generator = k.configMapGenerator.find((g: any) => g.name === "grafana-dashboard-loan-platform");
    expect(generator.files).toEqual([DASHBOARD]);
    expect(generator.options.labels).toEqual({ grafana_dashboard: "1" });
  });
});
