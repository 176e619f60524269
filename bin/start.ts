/**
 * Starts a node of the system. With no environment at all it is the whole system in one process:
 * every service, the in-process transporter, and an embedded MongoDB-compatible server, so
 * `npm start` on a fresh machine shows everything. With TRANSPORTER and MONGO_URL set, the same
 * entry point runs the services SERVICES names as one node of a distributed deployment.
 */
import { ServiceBroker } from "moleculer";
import { brokerOptions } from "../moleculer.config";
import { readConfig, type ServiceName } from "../shared/config";
import { DEV_TOKEN } from "../shared/auth/roles";
import { startMongoServer } from "../shared/runtime/mongo-server";
import { startHealthServer } from "../shared/runtime/health-server";
import { SERVICE_SCHEMAS } from "../services";
import { seedDemoConfig } from "../shared/seed/seed-demo";
import { seedDemoBook } from "../shared/seed/seed-demo-book";
import { businessToday } from "../shared/runtime/business-date";
import { tuneGarbageCollector } from "../shared/runtime/gc-tuning";

async function main(): Promise<void> {
  const startedAt = process.hrtime.bigint();
  const config = readConfig();
  if (config.gcTuning) tuneGarbageCollector();
  const say = startLog(config.logFormat);
  const mongo = await startMongoServer({ log: say });
  const broker = new ServiceBroker(
    brokerOptions(config, { mongoUrl: mongo.url, skipProcessEventRegistration: true }),
  );
  const seeding = (config.seedDemo === "true" || (config.seedDemo === "auto" && mongo.kind !== "external")) && ["programs", "rates"].every((s) => config.services.includes(s));
  const demoBook = seeding && config.services.includes("loans");
  for (const name of config.services) {
    // While the demo book closes the past year day by day, the scheduler's clock waits (seedLoansAfterStart starts it).
    if (name === "scheduler" && demoBook) broker.createService({ mixins: [SERVICE_SCHEMAS.scheduler], settings: { clock: false } } as any);
    else broker.createService(SERVICE_SCHEMAS[name as ServiceName]);
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    broker.logger.info(`${signal}: stopping (in-flight requests get up to 15 s)`);
    await broker.stop().catch((err) => broker.logger.error("stop failed", err));
    await mongo.stop().catch(() => undefined);
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));

  await broker.start();
  let demoLoans: (() => Promise<void>) | undefined;
  if (seeding) {
    const today = businessToday(config.businessTz);
    const { report, productIds } = await seedDemoConfig(broker, today);
    say(`demo data: ${JSON.stringify(report)} (SEED_DEMO=false to skip)`);
    if (demoBook) demoLoans = () => seedLoansAfterStart(broker, today, productIds, config.scheduler.clock, say);
  }
  if (config.healthPort) await startHealthServer(broker, config.healthPort);

  const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
  const lines = [`node ${broker.nodeID} up in ${seconds.toFixed(1)} s: ${config.services.join(", ")}`];
  lines.push(`MongoDB: ${mongo.kind}${mongo.kind === "external" ? "" : ` at ${mongo.url}`}`);
  lines.push(`transport: ${config.transporter || "in-process"}`);
  if (config.services.includes("gateway")) {
    lines.push(`gateway: http://localhost:${config.port}/api/v1   (OpenAPI: http://localhost:${config.port}/api/openapi.json)`);
    if (!config.authTokens && !config.oidc.jwksUrl) lines.push(`development token: ${DEV_TOKEN}   e.g. curl -H 'Authorization: Bearer ${DEV_TOKEN}' http://localhost:${config.port}/api/v1/programs`);
  }
  for (const line of lines) say(line);
  await demoLoans?.();
}

/** The start-up summary: `[start] …` lines, or JSON records like the broker's with LOG_FORMAT=json. */
function startLog(format: "text" | "json"): (message: string) => void {
  if (format === "json") return (msg) => console.log(JSON.stringify({ level: "info", time: new Date().toISOString(), pid: process.pid, mod: "start", msg }));
  return (msg) => console.log(`[start] ${msg}`);
}

/**
 * The demo loans, serviced through up to a year of payments, statements and fees (a few hundred
 * mutations), are seeded once the node reports itself up: the start stays as quick as without
 * them, and the loans and their servicing appear within seconds (a line says when they are done).
 */
async function seedLoansAfterStart(broker: ServiceBroker, today: string, productIds: Record<string, string>, clock: boolean, say: (m: string) => void): Promise<void> {
  const started = process.hrtime.bigint();
  try {
    const counts = await seedDemoBook(broker, today, productIds);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    say(`demo book: ${JSON.stringify(counts)} in ${seconds.toFixed(1)} s`);
  } catch (err) {
    broker.logger.warn("demo book not seeded:", err);
  }
  // The scheduler's clock was held while the demo ran the past year's closes itself.
  if (clock && broker.getLocalService("scheduler")) await broker.call("scheduler.startClock").catch(() => undefined);
}

main().catch((err) => {
  console.error("[start] failed:", err);
  process.exit(1);
});
