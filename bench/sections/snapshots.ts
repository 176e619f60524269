/**
 * Snapshots bench (issue 11 point 7): 100,000 loans in 100 portfolios in the snapshots service's
 * projection (built directly), on the embedded MongoDB wire server (mongo-java-server), through
 * the real `snapshots.run` action: one day's snapshot of every portfolio (all ten metrics, the
 * rows each saw) plus program and vintage metrics. Prints the job's seconds beside a raw driver
 * read of the same projection in the same run (the floor: the job reads it once), the job's
 * phases, the CPU seconds of this process and of the wire server, and what the rows weigh.
 * Target: ≤ 10 s. Run: npm run bench -- snapshots   (LOANS=… and PORTFOLIOS=… to vary it)
 */
import os from "node:os";
import { inflateRawSync } from "node:zlib";
import { ServiceBroker } from "moleculer";
import { Types } from "mongoose";
import { brokerOptions } from "../../moleculer.config";
import { readConfig } from "../../shared/config";
import { startJavaWireServer } from "../../shared/runtime/mongo-server";
import type { LoanAttributes, LoanPosition } from "../../shared/contracts/loans";
import SnapshotsService from "../../services/snapshots.service";
import { toStored } from "../../services/snapshots/projection-store";
import { cpuBetween, cpuSnapshot } from "../lib/cpu";

const LOANS = Number(process.env.LOANS ?? 100_000);
const PORTFOLIOS = Number(process.env.PORTFOLIOS ?? 100);
const DATE = "2026-06-30";
const TYPES = ["installment", "lease", "line_of_credit"] as const;
const BUCKETS = [[0, "current"], [12, "1_29"], [45, "30_59"], [75, "60_89"], [100, "90_119"], [150, "120_plus"]] as const;

let seed = 7;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)];
const month = (i: number) => `${2024 + Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, "0")}`;

function loanDoc(i: number, portfolioIds: string[]) {
  const id = new Types.ObjectId().toHexString();
  const m = Math.floor(rnd() * 29);
  const vintage = month(m);
  const principal = 1000 + Math.floor(rnd() * 4_900_000) / 100;
  const paid = Math.floor(rnd() * 6);
  const payment = Math.round((principal / 24) * 100) / 100;
  const balance = Math.max(0, principal - paid * payment * 0.8);
  const [dpd, bucket] = pick(BUCKETS);
  const attributes: LoanAttributes = {
    loan_id: id, external_id: `EXT-${i}`, product_id: `prod-${i % 7}`, program_id: `prog-${i % 5}`, program_type: pick(TYPES), interest_rate_type: "fixed",
    origination_date: `${vintage}-10`, vintage, principal: principal.toFixed(2), annual_rate: (0.04 + rnd() * 0.2).toFixed(4), term_months: 24,
    maturity_date: null, index_name: null, margin: null, region: "NY", credit_score: 700, currency: "USD",
  };
  const state: LoanPosition = {
    status: dpd > 5 ? "delinquent" : "active", principal_balance: balance.toFixed(2), interest_receivable: (balance * 0.01).toFixed(2), fees_due: "0.00", deferred_interest: "0.00",
    credit_balance: "0.00", past_due_amount: "0.00", days_past_due: dpd, bucket, next_due_date: null, next_payment_amount: null, total_disbursed: principal.toFixed(2),
    total_collected: (paid * payment).toFixed(2), as_of: DATE, closed_through: DATE, portfolio_id: null, investor_id: null,
  };
  const flows = [{ tx_id: `${id}-1`, date: `${vintage}-10`, amount: `-${principal.toFixed(2)}`, type: "disbursement", v: 2, gone: false }];
  for (let k = 0; k < paid; k++) flows.push({ tx_id: `${id}-${k + 2}`, date: `${month(m + k + 1)}-10`, amount: payment.toFixed(2), type: "payment", v: 3 + k, gone: false });
  const spans = [{ portfolio_id: portfolioIds[i % portfolioIds.length], from: "2026-01-01", to: null }];
  // Stored as the service stores it (services/snapshots/projection-store.ts).
  return { _id: id, rev: 1, ...toStored({ _id: id, version: 10, attributes, state, flows, spans }) };
}

const fmt = (x: number, d = 1) => x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
const roundAll = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Math.round(v * 100) / 100]));
const secondsSince = (t: bigint) => Number(process.hrtime.bigint() - t) / 1e9;

async function main() {
  const mongo = await startJavaWireServer();
  const url = `${mongo.url.replace(/\/$/, "")}/bench_snapshots`;
  const broker = new ServiceBroker({ ...brokerOptions(readConfig({ LOG_LEVEL: "warn" }), { mongoUrl: url }), skipProcessEventRegistration: true });
  broker.createService(SnapshotsService as any);
  await broker.start();
  try {
    const svc: any = broker.getLocalService("snapshots");
    const portfolioIds = Array.from({ length: PORTFOLIOS }, () => new Types.ObjectId().toHexString());
    await svc.models.snapshot_portfolios.collection.insertMany(portfolioIds.map((id, k) => ({ _id: id, version: 1, name: `P${k}`, program_id: null, status: "open", sale: null })));
    let t = process.hrtime.bigint();
    for (let i = 0; i < LOANS; i += 5000) await svc.models.snapshot_loans.collection.insertMany(Array.from({ length: Math.min(5000, LOANS - i) }, (_, j) => loanDoc(i + j, portfolioIds)), { ordered: false });
    const seedS = secondsSince(t);

    // Floor: the raw driver streaming the same projection once.
    t = process.hrtime.bigint();
    const rawCpu0 = cpuSnapshot();
    let raw = 0;
    for await (const _doc of svc.models.snapshot_loans.collection.find({}, { batchSize: 5000 })) raw++;
    const rawS = secondsSince(t);
    const rawCpu = cpuBetween(rawCpu0, cpuSnapshot());

    t = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    const jobCpu0 = cpuSnapshot();
    // For a --cpu-prof of this run: the job's window on the profile's clock (µs).
    if (process.env.BENCH_MARKS) console.log(`job from ${process.hrtime.bigint() / 1000n}`);
    const result: any = await broker.call("snapshots.run", { business_date: DATE }, { timeout: 0 });
    const jobS = secondsSince(t);
    const jobCpu = process.cpuUsage(cpu);
    if (process.env.BENCH_MARKS) console.log(`job to ${process.hrtime.bigint() / 1000n}`);
    const jobProcCpu = cpuBetween(jobCpu0, cpuSnapshot());

    const snaps = await svc.models.snapshots.countDocuments({ business_date: DATE });
    if (snaps !== PORTFOLIOS) throw new Error(`expected ${PORTFOLIOS} snapshots, found ${snaps}`);
    // The rows each snapshot saw: one portfolio's answered in full, and what the day's rows weigh.
    const one: any = await broker.call("snapshots.portfolioLoans", { portfolio_id: portfolioIds[0], business_date: DATE });
    if (one.loans.length !== one.snapshot.loan_count) throw new Error(`portfolio ${portfolioIds[0]}: ${one.loans.length} rows for ${one.snapshot.loan_count} loans`);
    let chunks = 0;
    let stored = 0;
    let plain = 0;
    for await (const c of svc.models.snapshot_rows.collection.find({})) {
      chunks++;
      stored += (c as any).rows_z.buffer.length;
      plain += inflateRawSync((c as any).rows_z.buffer).length;
    }
    const again: any = await broker.call("snapshots.run", { business_date: DATE });
    if (!again.repeated) throw new Error("a second run of the same date must answer the first");

    console.log(`snapshots bench — node ${process.version}, ${LOANS.toLocaleString("en-US")} loans in ${PORTFOLIOS} portfolios, mongo-java-server`);
    console.log(`seeded the projection in ${fmt(seedS)} s`);
    console.log(`raw driver: stream the projection (floor)            ${fmt(rawS, 2)} s  (${raw.toLocaleString("en-US")} documents)`);
    console.log(`snapshots.run: ${result.counts.portfolios} portfolio snapshots + ${result.counts.programs} program + ${result.counts.vintages} vintage metrics  ${fmt(jobS, 2)} s`);
    console.log(`job phases (ms): ${JSON.stringify(result.phases_ms)}`);
    console.log(`node CPU during the job ${fmt((jobCpu.user + jobCpu.system) / 1e6, 2)} s; machine load ${os.loadavg().map((x) => fmt(x, 2)).join(" ")} on ${os.cpus().length} cores`);
    console.log(`CPU s by process — raw read: ${JSON.stringify(roundAll(rawCpu))}; job: ${JSON.stringify(roundAll(jobProcCpu))}`);
    console.log(`rows stored: ${chunks} chunks, ${fmt(stored / 1e6)} MB deflated (${fmt(plain / 1e6)} MB of JSON)`);
    console.log(`ratio job / raw read: ${fmt(jobS / rawS)}x`);
    console.log(`${jobS <= 10 ? "met   " : "MISSED"}  one day's snapshots of 100,000 loans in 100 portfolios in ≤ 10 s (${fmt(jobS, 2)} s)`);
  } finally {
    await broker.stop();
    await mongo.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
