/**
 * Moleculer's Prometheus reporter always opens its own HTTP port. We serve its text from each
 * node's internal health port (HEALTH_PORT /metrics, shared/runtime/health-server.ts) instead —
 * never from the public gateway — so this subclass keeps the formatting and skips the listener.
 *
 * What it exports carries no details of the host (issue 7): moleculer's info metrics holding the
 * process arguments and install paths, the user, host name, kernel, CPU model, network addresses
 * and MAC addresses are excluded, and any sample still carrying such a label is dropped.
 */
import { MetricReporters } from "moleculer";

const Prometheus = MetricReporters.Prometheus as any;

/** Metrics exported: moleculer's, the process's and the OS's numbers, and the app's own. */
export const EXPORTED_METRICS = ["moleculer.**", "process.**", "os.**", "app.**"];

/** Info metrics whose values are host details (paths, user, host, kernel, addresses). */
export const HOST_DETAIL_METRICS = [
  "process.arguments",
  "process.pid",
  "process.ppid",
  "os.hostname",
  "os.release",
  "os.type",
  "os.arch",
  "os.platform",
  "os.user.**",
  "os.network.**",
  "os.cpu.info.model",
  "os.datetime.**",
];

/** Label names that would name a host, a node, a user, an address or a path. */
const HOST_DETAIL_LABELS = /[{,](?:nodeID|node|hostname|host|instance_host|interface|address|ip|mac|username|user|homedir|path|cwd|execPath|argv)="/i;

export class PrometheusTextReporter extends Prometheus {
  constructor(opts: Record<string, unknown> = {}) {
    super({ includes: EXPORTED_METRICS, excludes: HOST_DETAIL_METRICS, ...opts });
  }
  init(registry: any): void {
    // The base reporter's init only wires registry/broker/logger; the Prometheus one adds the server.
    (MetricReporters.Base as any).prototype.init.call(this, registry);
  }
  stop(): Promise<void> {
    return Promise.resolve();
  }
  text(): string {
    return withoutHostDetails(this.generatePrometheusResponse());
  }
}

/** The text exposition of a broker's metrics, or null when metrics are off. */
export function prometheusText(broker: { metrics: any }): string | null {
  const reporter = broker.metrics?.reporter?.find?.((r: unknown) => r instanceof PrometheusTextReporter);
  return reporter ? reporter.text() : null;
}

/** Drops every sample line whose labels would carry host details (a safety net over `excludes`). */
export function withoutHostDetails(text: string): string {
  return text
    .split("\n")
    .filter((line) => line.startsWith("#") || !HOST_DETAIL_LABELS.test(line))
    .join("\n");
}
