/**
 * `npm run seed`: loads the demo configuration (shared/seed) through the services' actions.
 * - With TRANSPORTER: joins the running cluster and calls its programs and rates services (and
 *   loans, for the demo loans, when the cluster runs it).
 * - With only MONGO_URL: starts programs, rates and loans in this process against that database.
 * - With neither: the embedded system (npm start) seeds its in-memory database itself.
 */
import { ServiceBroker } from "moleculer";
import { brokerOptions } from "../moleculer.config";
import { readConfig } from "../shared/config";
import { businessToday } from "../shared/runtime/business-date";
import { seedDemoData } from "../shared/seed/seed-demo";
import { SERVICE_SCHEMAS } from "../services";

async function main(): Promise<void> {
  // A tool, not a service node: quiet unless LOG_LEVEL asks otherwise.
  const config = { ...readConfig(), logLevel: process.env.LOG_LEVEL ?? "warn" };
  if (!config.transporter && !config.mongoUrl) {
    console.log("[seed] nothing to seed: set TRANSPORTER (a running cluster) or MONGO_URL. `npm start` seeds its embedded database by itself.");
    return;
  }
  const broker = new ServiceBroker({ ...brokerOptions(config), nodeID: `seed-${process.pid}`});
  if (!config.transporter) {
    broker.createService(SERVICE_SCHEMAS.programs);
    broker.createService(SERVICE_SCHEMAS.rates);
    broker.createService(SERVICE_SCHEMAS.loans);
  }
  await broker.start();
  try {
    await broker.waitForServices(config.transporter ? ["programs", "rates"] : ["programs", "rates", "loans"], 60_000);
    const report = await seedDemoData(broker, businessToday(config.businessTz));
    console.log(`[seed] ${JSON.stringify(report)}`);
  } finally {
    await broker.stop();
  }
}

main().catch((err) => {
  console.error("[seed] failed:", err?.message ?? err);
  process.exit(1);
});
