/**
 * Broker configuration, built from shared/config.ts (environment). Every node of the system, and
 * every test broker, is created through `brokerOptions`, so they all validate params, count
 * metrics, trace requests and shut down gracefully the same way.
 */
import type { BrokerOptions } from "moleculer";
import os from "node:os";
import { stdTimeFunctions } from "pino";
import type { AppConfig } from "./shared/config";
import { PrometheusTextReporter } from "./shared/runtime/prometheus";
import { CompactParamsMiddleware } from "./shared/runtime/compact-params.middleware";
import { PlatformValidator } from "./shared/validation/validator";

const pinoIsoTime = stdTimeFunctions.isoTime;

export interface BrokerOverrides extends Partial<BrokerOptions> {
  /** MongoDB URL for the services of this broker (else MONGO_URL). */
  mongoUrl?: string;
}

export function brokerOptions(config: AppConfig, overrides: BrokerOverrides = {}): BrokerOptions {
  const { mongoUrl, metadata, ...rest } = overrides;
  return {
    namespace: config.namespace,
    nodeID: config.nodeId ?? `${os.hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 6)}`,
    logger: loggerFor(config),
    logLevel: config.logLevel as any,
    // Object form: moleculer 0.15 parses string URLs differently across transporters.
    transporter: config.transporter ? { type: "NATS", options: { url: config.transporter, maxReconnectAttempts: -1 } } : null,
    requestTimeout: 30_000,
    // No automatic retries: a money mutation is retried by its caller with the same idempotency key.
    retryPolicy: { enabled: false },
    // fastest-validator on every action's `params`, plus the rules every REST action gets without
    // declaring them: strict params, cross-field rules on valid fields only, PATCH needs a version.
    validator: new PlatformValidator() as any,
    // Served on each node's internal HEALTH_PORT only; no host details (shared/runtime/prometheus.ts).
    metrics: { enabled: true, reporter: [new (PrometheusTextReporter as any)()] },
    // Spans carry the request id end to end, exported where TRACING_EXPORTER says; with no
    // exporter they would be built for every call and event and thrown away (the request id
    // itself travels with every context either way, and the logs carry it).
    tracing: { enabled: tracingExporters().length > 0, exporter: tracingExporters(), events: true },
    middlewares: [CompactParamsMiddleware],
    // Graceful shutdown: stop accepting, wait for in-flight requests up to the timeout.
    tracking: { enabled: true, shutdownTimeout: 15_000 },
    metadata: { ...(metadata ?? {}), mongoUrl: mongoUrl ?? config.mongoUrl, businessTz: config.businessTz },
    ...rest,
  };
}

/**
 * Text lines on a terminal; with LOG_FORMAT=json one JSON object per line through pino (what
 * Kubernetes log collectors parse): ISO time, level as a word, the node, module and service.
 */
function loggerFor(config: AppConfig): BrokerOptions["logger"] {
  if (config.logFormat === "json") {
    return {
      type: "Pino",
      options: {
        level: config.logLevel,
        pino: {
          options: {
            timestamp: pinoIsoTime,
            formatters: { level: (label: string) => ({ level: label }) },
            base: { pid: process.pid },
          },
        },
      },
    } as BrokerOptions["logger"];
  }
  return { type: "Console", options: { level: config.logLevel, formatter: "short", colors: process.stdout.isTTY } };
}

function tracingExporters(): any[] {
  switch (process.env.TRACING_EXPORTER) {
    case "console":
      return [{ type: "Console" }];
    case "zipkin":
      return [{ type: "Zipkin", options: { baseURL: process.env.ZIPKIN_URL ?? "http://zipkin:9411" } }];
    case "jaeger":
      return [{ type: "Jaeger", options: { endpoint: process.env.JAEGER_ENDPOINT } }];
    default:
      return [];
  }
}
