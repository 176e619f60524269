/**
 * `node dist/bin/tick.js <job> [business_date]`: what a Kubernetes CronJob runs each day. It joins
 * the cluster as a short-lived node, asks the scheduler for the tick (idempotent per job and
 * date, so a retried or doubled CronJob run is harmless), prints the answer and exits.
 */
import { ServiceBroker } from "moleculer";
import { brokerOptions } from "../moleculer.config";
import { readConfig } from "../shared/config";
import { JOB_NAMES, type DailyJob } from "../shared/contracts/scheduler";
import { businessToday } from "../shared/runtime/business-date";

async function main(): Promise<void> {
  const [job, date] = process.argv.slice(2);
  if (!JOB_NAMES.includes(job as DailyJob)) {
    console.error(`usage: tick <${JOB_NAMES.join("|")}> [YYYY-MM-DD]`);
    process.exit(2);
  }
  // A tool, not a service node: quiet unless LOG_LEVEL asks otherwise.
  const config = { ...readConfig(), logLevel: process.env.LOG_LEVEL ?? "warn" };
  if (!config.transporter) {
    console.error("TRANSPORTER must point at the cluster's NATS (the tick is run by the scheduler service)");
    process.exit(2);
  }
  const broker = new ServiceBroker({ ...brokerOptions(config), nodeID: `tick-${job}-${process.pid}`});
  await broker.start();
  try {
    await broker.waitForServices(["scheduler"], 60_000);
    const businessDate = date ?? businessToday(config.businessTz);
    const result = await broker.call("scheduler.runTick", { job, business_date: businessDate, trigger: "cron" });
    console.log(JSON.stringify(result));
  } finally {
    await broker.stop();
  }
}

main().catch((err) => {
  console.error("[tick] failed:", err?.message ?? err);
  process.exit(1);
});
