/**
 * Probe of one payment's cost, without HTTP: the programs, rates and loans services in this
 * process on a Java wire server, LOANS loans paid installment by installment (one payment in
 * flight per loan, LOANS in flight). Prints the MongoDB operations per payment (the driver's command
 * monitoring, by collection and command), the node CPU ms per payment (process.cpuUsage: the
 * services and this driver) and the Java server's CPU ms per payment (/proc/<pid>/stat).
 * Profile it with `scripts/node --cpu-prof --cpu-prof-dir=tmp/prof --import tsx bench/probes/payment-ops.ts`.
 *
 * Run: scripts/node --import tsx bench/probes/payment-ops.ts   (PROBE_LOANS=20, PROBE_ROUNDS=12, PROBE_WARMUP=4)
 */
import mongoose from "mongoose";
import { DateTime } from "luxon";
import { businessToday } from "../../shared/runtime/business-date";
import { cpuBetween, cpuSnapshot } from "../lib/cpu";
import { probeProduct, startProbeServices } from "../lib/probe-services";

const LOANS = Number(process.env.PROBE_LOANS ?? 20);
const ROUNDS = Number(process.env.PROBE_ROUNDS ?? 12);
/** Rounds paid before measuring (the JIT of node and of the Java server warm up). */
const WARMUP = Number(process.env.PROBE_WARMUP ?? 4);

async function main(): Promise<void> {
  // PROBE_CONSUMERS=1 adds the services that consume loan events (portfolios, snapshots), as the embedded start runs them.
  const probe = await startProbeServices("probe_payments", ["programs", "rates", "loans", ...(process.env.PROBE_CONSUMERS ? (["portfolios", "snapshots"] as const) : [])]);
  try {
    const { call } = probe;
    const productId = await probeProduct(call);
    const today = businessToday(process.env.BUSINESS_TZ ?? "America/New_York");
    const start = DateTime.fromISO(today, { zone: "utc" }).minus({ months: WARMUP + ROUNDS + 2 }).toISODate()!;
    const loans = await Promise.all(Array.from({ length: LOANS }, async (_, i) => {
      const created = await call("loans.createLoan", { product_id: productId, principal: (5000 + i * 125).toFixed(2), term_months: 36 });
      const disbursed = await call("loans.disburse", { id: created.id, date: start });
      return { id: created.id as string, rows: disbursed.schedule.filter((r: any) => r.due_date <= today) };
    }));

    await Promise.all(loans.map(async (l, i) => {
      for (let r = 0; r < Math.min(WARMUP, l.rows.length); r++) await call("loans.pay", { id: l.id, amount: l.rows[r].payment, date: l.rows[r].due_date, idempotency_key: `probe-${i}-${r}` });
    }));
    // Mongoose's debug hook sees every operation of the services' models and their collections
    // (one per round trip: an insertMany or a bulkWrite is one).
    const counts = new Map<string, number>();
    mongoose.set("debug", (collection: string, method: string) => {
      const k = `${collection}.${method}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    });
    const cpu0 = process.cpuUsage();
    const proc0 = cpuSnapshot();
    const t0 = performance.now();
    let paid = 0;
    await Promise.all(loans.map(async (l, i) => {
      for (let r = WARMUP; r < Math.min(WARMUP + ROUNDS, l.rows.length); r++) {
        await call("loans.pay", { id: l.id, amount: l.rows[r].payment, date: l.rows[r].due_date, idempotency_key: `probe-${i}-${r}` });
        paid++;
      }
    }));
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const procs = cpuBetween(proc0, cpuSnapshot());
    const java = Object.entries(procs).find(([k]) => k.startsWith("java"))?.[1] ?? NaN;
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    console.log(`${paid} payments in ${(ms / 1000).toFixed(2)} s (${(paid / (ms / 1000)).toFixed(0)}/s, ${LOANS} in flight); load ${(await import("node:fs")).readFileSync("/proc/loadavg", "utf8").trim()}`);
    console.log(`CPU ms per payment: node ${((cpu.user + cpu.system) / 1000 / paid).toFixed(2)}, java ${((java * 1000) / paid).toFixed(2)}`);
    console.log(`MongoDB operations per payment: ${(total / paid).toFixed(2)}`);
    for (const [k, n] of [...counts].sort((a, b) => b[1] - a[1])) console.log(`  ${k.padEnd(40)} ${(n / paid).toFixed(2)}`);
    // What one payment writes (BSON bytes): the loan (whose write also carries the pending side writes), and each side document.
    const db = mongoose.connections.find((c) => c.name === "probe_payments")!.db!;
    const size = (d: unknown) => (d ? mongoose.mongo.BSON.calculateObjectSize(d as any) : 0);
    const id = loans[0].id;
    const [loanDoc, tx, idem, event] = await Promise.all([
      db.collection("loans").findOne({ _id: new mongoose.Types.ObjectId(id) }),
      db.collection("loan_transactions").findOne({ _id: `${id}-2` as any }),
      db.collection("loan_idempotency").findOne({ _id: `${id}:probe-0-0` as any }),
      db.collection("loans_outbox").findOne({ _id: `${id}:v3:0` as any }),
    ]);
    console.log(`BSON bytes: loan ${size(loanDoc)} (pending cleared), ledger entry ${size(tx)}, idempotency record ${size(idem)}, outbox event ${event ? `${size(event)}` : "(deleted once published)"}`);
  } finally {
    await probe.stop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
