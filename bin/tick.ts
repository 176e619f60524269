/**
 * `node dist/bin/tick.js <job> [business_date]`: what a Kubernetes CronJob runs each day. It joins
 * the cluster as a short-lived node, asks the scheduler for the job's run for the date (default:
 * the latest due business date, yesterday in BUSINESS_TZ — the chain for D runs after D has
 * ended), prints the ledger's answer and exits. The scheduler adds the dates missed since its
 * latest (catch-up) and starts the job once its upstream for the date is done; asked for early,
 * the run is recorded as `waiting`. Idempotent per job and date: a retried or doubled CronJob run
 * is harmless.
 */
import { ServiceBroker } from "moleculer";
import { brokerOptions } from "../moleculer.config";
import { readConfig } from "../shared/config";
import { JOB_NAMES, type DailyJob } from "../shared/contracts/scheduler";
import { latestDueDate } from "../shared/scheduler/chain-time";

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
    const businessDate = date ?? latestDueDate(config.businessTz, new Date());
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
