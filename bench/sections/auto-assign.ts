/**
 * Auto-assign bench (issue 10): 100,000 unassigned active loans in the portfolios service's loan
 * projection against 50 open criteria portfolios, on the embedded MongoDB wire server
 * (mongo-java-server), through the real `portfolios.autoAssign` action. Prints the job's seconds
 * and loans/s, beside the raw driver reading the same documents (the floor: one streamed pass
 * can be no faster), and the alternative the job does not use (one query per portfolio).
 * Target: ≤ 20 s. Run: npm run bench -- auto-assign   (LOANS=… and PORTFOLIOS=… to vary it)
 */
import { ServiceBroker } from "moleculer";
import { Types } from "mongoose";
import { brokerOptions } from "../../moleculer.config";
import { readConfig } from "../../shared/config";
import { startJavaWireServer } from "../../shared/runtime/mongo-server";
import { criteriaDocument, criteriaToMongo, criteriaView, type Criteria } from "../../shared/portfolios/criteria";
import type { LoanAttributes, LoanPosition } from "../../shared/contracts/loans";
import PortfoliosService from "../../services/portfolios.service";

const LOANS = Number(process.env.LOANS ?? 100_000);
const PORTFOLIOS = Number(process.env.PORTFOLIOS ?? 50);
const REGIONS = ["NY", "CA", "TX", "FL", "IL", "PA", "OH", "GA", "NC", "MI"];
const TYPES = ["installment", "lease", "line_of_credit"] as const;

/** A deterministic pseudo-random sequence, so every run assigns the same loans. */
let seed = 42;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)];
const month = (i: number) => `${2024 + Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, "0")}`;

function loanDoc(i: number) {
  const id = new Types.ObjectId().toHexString();
  const m = Math.floor(rnd() * 30);
  const vintage = month(m);
  const balance = (500 + Math.floor(rnd() * 4_950_000) / 100).toFixed(2);
  const attributes: LoanAttributes = {
    loan_id: id, external_id: `EXT-${i}`, product_id: `prod-${i % 7}`, program_id: `prog-${i % 4}`, program_type: pick(TYPES), interest_rate_type: "fixed",
    origination_date: `${vintage}-15`, vintage, principal: (Number(balance) * 1.2).toFixed(2), annual_rate: (0.04 + rnd() * 0.2).toFixed(4), term_months: pick([12, 24, 36, 48, 60]),
    maturity_date: null, index_name: null, margin: null, region: pick(REGIONS), credit_score: 550 + Math.floor(rnd() * 300), currency: "USD",
  };
  const state: LoanPosition = {
    status: "active", principal_balance: balance, interest_receivable: "0.00", fees_due: "0.00", deferred_interest: "0.00", credit_balance: "0.00", past_due_amount: "0.00",
    days_past_due: 0, bucket: "current", next_due_date: null, next_payment_amount: null, total_disbursed: balance, total_collected: "0.00", as_of: "2026-06-30", closed_through: null,
    portfolio_id: null, investor_id: null,
  };
  const disbursed = { id: `${id}-d`, trade_date: `${vintage}-15`, transaction_class: "cash_outflow" };
  return {
    _id: id, version: 2, attributes, state, ledger: [disbursed], retired: [], first_transaction_date: disbursed.trade_date, first_cash_flow_date: disbursed.trade_date,
    m: criteriaDocument(criteriaView(attributes, state)), prev: 1, membership_end: null, pending_dates: [],
  };
}

/** 50 portfolios: each a region and program type, some narrowed by vintage, score or balance. */
function criteriaOf(k: number): Criteria {
  const rules: Criteria[] = [{ field: "region", op: "eq", value: REGIONS[k % REGIONS.length] }, { field: "program_type", op: "in", value: [TYPES[k % 3], TYPES[(k + 1) % 3]] }];
  if (k % 5 === 1) rules.push({ field: "vintage", op: "between", value: [month(k % 12), month((k % 12) + 12)] });
  if (k % 5 === 2) rules.push({ field: "credit_score", op: "gte", value: 600 + (k % 7) * 20 });
  if (k % 5 === 3) rules.push({ field: "balance", op: "lt", value: `${10_000 + k * 500}.00` });
  if (k % 5 === 4) rules.push({ any: [{ field: "annual_rate", op: "lte", value: "0.12" }, { field: "term_months", op: "nin", value: [12, 24] }] });
  return { all: rules };
}

const fmt = (x: number, d = 1) => x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
const secondsSince = (t: bigint) => Number(process.hrtime.bigint() - t) / 1e9;

async function main() {
  const mongo = await startJavaWireServer();
  const url = `${mongo.url.replace(/\/$/, "")}/bench_auto_assign`;
  const broker = new ServiceBroker({ ...brokerOptions(readConfig({ LOG_LEVEL: "warn" }), { mongoUrl: url }), skipProcessEventRegistration: true });
  broker.createService(PortfoliosService as any);
  await broker.start();
  try {
    const svc: any = broker.getLocalService("portfolios");
    const loans = svc.models.portfolio_loans.collection;

    let t = process.hrtime.bigint();
    for (let i = 0; i < LOANS; i += 5000) await loans.insertMany(Array.from({ length: Math.min(5000, LOANS - i) }, (_, j) => loanDoc(i + j)), { ordered: false });
    const seedS = secondsSince(t);
    const criteria: Criteria[] = [];
    for (let k = 0; k < PORTFOLIOS; k++) {
      criteria.push(criteriaOf(k));
      await broker.call("portfolios.createPortfolio", { name: `Criteria ${k}`, user_code: `bench:p${k}`, priority: k % 10, criteria: criteria[k] });
    }

    // Floor: the raw driver streaming the same unassigned active loans.
    t = process.hrtime.bigint();
    let raw = 0;
    const jobFields = { m: 1, membership_end: 1, first_transaction_date: 1, first_cash_flow_date: 1 };
    for await (const _doc of loans.find({ "m.status": "active" }, { batchSize: 5000, projection: jobFields })) raw++;
    const rawS = secondsSince(t);

    // The road not taken: one query per portfolio (ids only), each a full scan on this server.
    t = process.hrtime.bigint();
    let perPortfolio = 0;
    for (const c of criteria) perPortfolio += (await loans.find({ "m.status": "active", ...criteriaToMongo(c) }, { projection: { _id: 1 } }).toArray()).length;
    const perPortfolioS = secondsSince(t);

    t = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    const result: any = await broker.call("portfolios.autoAssign", { business_date: "2026-07-01" }, { timeout: 0 });
    const jobS = secondsSince(t);
    const jobCpu = process.cpuUsage(cpu);
    t = process.hrtime.bigint();
    const outbox = svc.db.collection("portfolios_outbox");
    while ((await outbox.countDocuments({ published: false })) > 0) await new Promise((r) => setTimeout(r, 250));
    const drainS = secondsSince(t);

    const claimed = await svc.models.loan_claims.countDocuments({});
    const history = await svc.models.portfolio_memberships.countDocuments({});
    if (claimed !== result.assigned || history !== result.assigned) throw new Error(`job says ${result.assigned} assigned; ${claimed} claims, ${history} history records`);
    const again: any = await broker.call("portfolios.autoAssign", { business_date: "2026-07-01" });
    if (!again.repeated) throw new Error("a second run of the same date must answer the first");

    console.log(`auto-assign bench — node ${process.version}, ${LOANS.toLocaleString("en-US")} loans, ${PORTFOLIOS} criteria portfolios, mongo-java-server`);
    console.log(`seeded the projection in ${fmt(seedS)} s`);
    const rows: [string, string, string][] = [
      ["work", "seconds", "loans/s"],
      ["raw driver: stream the active loans, the job's fields (floor)", fmt(rawS, 2), fmt(raw / rawS, 0)],
      [`one query per portfolio (ids only, ${PORTFOLIOS} scans; not used)`, fmt(perPortfolioS, 2), fmt(LOANS / perPortfolioS, 0)],
      [`portfolios.autoAssign: ${result.scanned.toLocaleString("en-US")} candidates, ${result.assigned.toLocaleString("en-US")} assigned`, fmt(jobS, 2), fmt(LOANS / jobS, 0)],
      ["  then: relay publishes its portfolio.loans.added batch events", fmt(drainS, 2), fmt(result.assigned / Math.max(drainS, 1e-9), 0)],
    ];
    const w = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c].length)));
    for (const [i, r] of rows.entries()) {
      console.log(r.map((cell, c) => (c ? cell.padStart(w[c]) : cell.padEnd(w[c]))).join("  |  "));
      if (i === 0) console.log(w.map((n) => "-".repeat(n)).join("--+--"));
    }
    console.log(`\njob phases (ms): ${JSON.stringify(result.phases_ms)}; node CPU during the job ${fmt((jobCpu.user + jobCpu.system) / 1e6, 2)} s (the rest is the wire server and waiting)`);
    console.log(`machine load average at the end: ${(await import("node:os")).loadavg().map((x) => fmt(x, 2)).join(" ")} on ${(await import("node:os")).cpus().length} cores`);
    console.log(`ratio job / raw read: ${fmt(jobS / rawS)}x; per-portfolio queries / job: ${fmt(perPortfolioS / jobS)}x (${perPortfolio.toLocaleString("en-US")} matches before priority)`);
    console.log(`${jobS <= 20 ? "met   " : "MISSED"}  100,000 loans against 50 portfolios in ≤ 20 s (${fmt(jobS, 2)} s)`);
  } finally {
    await broker.stop();
    await mongo.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
