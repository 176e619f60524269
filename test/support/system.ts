/**
 * Starts nodes of the real system for tests: the same service schemas and broker options as
 * bin/start.ts, on a real MongoDB wire server, connected through a real nats-server when a NATS
 * URL is given (in-process otherwise).
 */
import { ServiceBroker, type ServiceSchema } from "moleculer";
import { brokerOptions } from "../../moleculer.config";
import { readConfig, type ServiceName } from "../../shared/config";
import { SERVICE_SCHEMAS } from "../../services";
import { TEST_AUTH_TOKENS } from "./http";

export * from "./http";

export interface NodeOptions {
  nodeID: string;
  services: ServiceName[];
  mongoUrl: string;
  natsUrl?: string;
  /** Extra settings per service, e.g. { scheduler: { clock: false } }. */
  settings?: Partial<Record<ServiceName, Record<string, unknown>>>;
  /** Test-only services on this node, e.g. an event listener. */
  extraServices?: ServiceSchema[];
}

export async function startNode(opts: NodeOptions): Promise<ServiceBroker> {
  const config = { ...readConfig({}), transporter: opts.natsUrl ?? "", logLevel: process.env.TEST_LOG_LEVEL ?? "warn" };
  const broker = new ServiceBroker({
    ...brokerOptions(config, { mongoUrl: opts.mongoUrl }),
    nodeID: opts.nodeID,
    skipProcessEventRegistration: true,
  });
  for (const name of opts.services) {
    const extra: Record<string, unknown> = { ...(opts.settings?.[name] ?? {}) };
    if (name === "gateway") Object.assign(extra, { port: 0, ip: "127.0.0.1", authTokens: TEST_AUTH_TOKENS, ...extra });
    if (name === "scheduler") Object.assign(extra, { clock: false, ...extra });
    broker.createService({ mixins: [SERVICE_SCHEMAS[name]], settings: extra } as any);
  }
  for (const schema of opts.extraServices ?? []) broker.createService(schema);
  await broker.start();
  return broker;
}

