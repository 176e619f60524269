/**
 * Moleculer's Prometheus reporter always opens its own HTTP port. We serve its text from the
 * gateway (/metrics/prometheus) and from each node's health port instead, so this subclass keeps
 * the formatting and skips the listener.
 */
import { MetricReporters } from "moleculer";

const Prometheus = MetricReporters.Prometheus as any;

export class PrometheusTextReporter extends Prometheus {
  init(registry: any): void {
    // The base reporter's init only wires registry/broker/logger; the Prometheus one adds the server.
    (MetricReporters.Base as any).prototype.init.call(this, registry);
  }
  stop(): Promise<void> {
    return Promise.resolve();
  }
  text(): string {
    return this.generatePrometheusResponse();
  }
}

/** The text exposition of a broker's metrics, or null when metrics are off. */
export function prometheusText(broker: { metrics: any }): string | null {
  const reporter = broker.metrics?.reporter?.find?.((r: unknown) => r instanceof PrometheusTextReporter);
  return reporter ? reporter.text() : null;
}
