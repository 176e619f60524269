/**
 * `npm run repl`: an operator's console on a running cluster (moleculer-repl). It joins through
 * TRANSPORTER as a node of its own and runs no services, so `call loans.getLoan --id …`,
 * `services`, `nodes`, `actions`, `events` and `emit` reach the real system, and the operator's
 * own commands (`tick`, `chain`, `snapshot`, `tape`, `explain`, `portfolio`: shared/runtime/
 * repl-commands.ts; `help` lists them) run the jobs an operator runs.
 */
import { ServiceBroker, type BrokerOptions } from "moleculer";
import { brokerOptions } from "../moleculer.config";
import { readConfig } from "../shared/config";
import { replCommands } from "../shared/runtime/repl-commands";

async function main(): Promise<void> {
  // A tool, not a service node: quiet unless LOG_LEVEL asks otherwise.
  const config = { ...readConfig(), logLevel: process.env.LOG_LEVEL ?? "warn" };
  if (!config.transporter) {
    console.error("set TRANSPORTER to the cluster's NATS, e.g. TRANSPORTER=nats://127.0.0.1:4222 npm run repl");
    process.exit(2);
  }
  const broker = new ServiceBroker({
    ...brokerOptions(config),
    nodeID: `repl-${process.pid}`,
    replOptions: { customCommands: replCommands(), delimiter: "loans $" },
  } as BrokerOptions);
  await broker.start();
  await broker.repl();
}

main().catch((err) => {
  console.error("[repl] failed:", err?.message ?? err);
  process.exit(1);
});
