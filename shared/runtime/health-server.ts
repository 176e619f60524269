/**
 * Per-node HTTP endpoints for Kubernetes: /live (the broker is up), /ready (this node's own
 * services started and answering, the gateway's routes served: readiness.ts), /metrics
 * (Prometheus text). Every container serves these on HEALTH_PORT whatever services it runs, so
 * probes need no gateway.
 */
import http from "node:http";
import type { ServiceBroker } from "moleculer";
import { nodeReadiness } from "./readiness";
import { prometheusText } from "./prometheus";

export function startHealthServer(broker: ServiceBroker, port: number): Promise<http.Server> {
  const server = http.createServer(async (req, res) => {
    try {
      if (req.url === "/live") return send(res, broker.started ? 200 : 503, { status: broker.started ? "ok" : "starting" });
      if (req.url === "/ready") {
        const report = await nodeReadiness(broker);
        return send(res, report.ready ? 200 : 503, report);
      }
      if (req.url === "/metrics") {
        res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" });
        return res.end(prometheusText(broker) ?? "");
      }
      send(res, 404, { error: { type: "NOT_FOUND", message: "not found" } });
    } catch (err: any) {
      send(res, 503, { status: "error", message: err?.message });
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, () => resolve(server));
  });
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}
