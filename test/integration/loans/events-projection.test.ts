/**
 * Issue 8 point 10 — the durable `loan.*` events (DESIGN.md §7) carry each loan's attributes,
 * state and version, enough for another process to rebuild every loan's position without calling
 * back. A consumer child process (test/support/loan-infra/projection-consumer.ts) reads them from
 * JetStream through DurableEventsMixin and keeps a projection, keyed by loan id, that takes only
 * newer versions. After a mixed workload over every program type — payments, a backdated payment,
 * a reversal, a returned payment, a rebook, fees, draws, a statement, a payoff, a lease buyout, a
 * pending and a cancelled loan — every loan's projected position and attributes equal what
 * `GET /loans/:id` says, at the same version.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { DateTime } from "luxon";
import mongoose, { type Connection } from "mongoose";
import { makeProduct, startLoanSystem, type LoanSystem } from "../../support/loans";
import { eventually, gatewayUrl, TEST_TOKENS as T } from "../../support/system";
import { uniqueDbUrl } from "../../support/mongo";
import { loanOf, must, request } from "../../support/loan-infra/http";
import { businessToday } from "../../../shared/runtime/business-date";
import { keepPublishedOutboxRecords } from "../../support/events/keep-published";

keepPublishedOutboxRecords();

const ROOT = path.resolve(__dirname, "../../..");
const BUSINESS_TZ = "America/New_York"; // the default the loans service runs with (shared/config.ts)

let sys: LoanSystem;
let base: string;
let consumer: ChildProcess;
let consumerOut = "";
let projection: Connection;

beforeAll(async () => {
  sys = await startLoanSystem("loans_events");
  base = gatewayUrl(sys.gw);
  const projectionDb = uniqueDbUrl(sys.mongoUrl, "loan_projection");
  projection = await mongoose.createConnection(projectionDb).asPromise();
  consumer = spawn(process.execPath, ["--import", "tsx", "test/support/loan-infra/projection-consumer.ts"], {
    cwd: ROOT,
    env: { ...process.env, JETSTREAM_URL: sys.nats.url, MONGO_URL: projectionDb, TRANSPORTER: "", SERVICES: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  consumer.stdout!.on("data", (d) => (consumerOut += d));
  consumer.stderr!.on("data", (d) => (consumerOut += d));
  await eventually(() => consumerOut.includes("projection consumer ready") || consumer.exitCode !== null, 90_000);
  if (consumer.exitCode !== null) throw new Error(`projection consumer exited:\n${consumerOut}`);
}, 120_000);

afterAll(async () => {
  if (consumer && consumer.exitCode === null) {
    const exited = new Promise((done) => consumer.once("exit", done));
    consumer.kill("SIGTERM");
    await exited;
  }
  await projection?.close();
  await sys?.stop();
});

const post = (p: string, body: unknown, status = 201) => must(request(base, "POST", `/api/v1${p}`, { token: T.servicer, body }), status);
let keys = 0;
const pay = (id: string, amount: string, date: string) => post(`/loans/${id}/payments`, { amount, date, idempotency_key: `ev-${++keys}` });

async function create(body: Record<string, unknown>): Promise<string> {
  return (await post("/loans", body)).id;
}
async function open(body: Record<string, unknown>, date: string): Promise<any> {
  const id = await create(body);
  return post(`/loans/${id}/disburse`, { date }, 200);
}

/** The workload: every program type and every kind of change; returns the ids of all its loans. */
async function workload(): Promise<string[]> {
  const fees = [{ fee_type: "late", calculation: "flat", amount: "25.00" }, { fee_type: "nsf", calculation: "flat", amount: "30.00" }];
  const installment = (await makeProduct(sys.api, { fees })).product_id;
  const thirty360 = (await makeProduct(sys.api, { day_count_convention: "30_360", accrual_method: "compound_daily", fees })).product_id;
  const lease = (await makeProduct(sys.api, { program_type: "lease", program_config: { residual_percent: "0.4000" } })).product_id;
  const line = (await makeProduct(sys.api, { program_type: "line_of_credit", program_config: { min_payment_percent: "0.0300", min_payment_floor: "25.00" } })).product_id;
  const borrower = (region: string, credit_score: number) => ({ name: "B", region, credit_score });
  const ids: string[] = [];

  // Installment: on-time payments, then a backdated one (replay).
  const a = await open({ product_id: installment, principal: "12000.00", term_months: 12, annual_rate: "0.1200", borrower: borrower("north", 720) }, "2026-06-01");
  for (const r of a.schedule.slice(0, 3)) await pay(a.id, r.payment, r.due_date);
  await pay(a.id, "150.00", "2026-07-20");
  ids.push(a.id);

  // Installment: a payment, a late fee, then the payment reversed (and delinquent since).
  const b = await open({ product_id: installment, principal: "8000.00", term_months: 24, annual_rate: "0.0950", borrower: borrower("south", 650) }, "2026-06-01");
  const bPaid = await pay(b.id, b.schedule[0].payment, b.schedule[0].due_date);
  await post(`/loans/${b.id}/fees`, { fee_type: "late", date: "2026-08-15", idempotency_key: `ev-${++keys}` });
  await must(request(base, "DELETE", `/api/v1/loans/${b.id}/transactions/${bPaid.transaction.id}`, { token: T.servicer }));
  ids.push(b.id);

  // Installment: paid off with the payoff quote's total.
  const c = await open({ product_id: installment, principal: "5000.00", term_months: 12, annual_rate: "0.0800" }, "2026-06-01");
  const quote = await must(request(base, "GET", `/api/v1/loans/${c.id}/payoff?date=2026-07-15`, { token: T.analyst }));
  await pay(c.id, quote.total, "2026-07-15");
  ids.push(c.id);

  // Installment on 30/360 compound daily: payments, one returned (NSF fee), one rebooked.
  const d = await open({ product_id: thirty360, principal: "20000.00", term_months: 36, annual_rate: "0.0700", borrower: borrower("west", 780) }, "2026-05-15");
  const dPaid = [];
  for (const r of d.schedule.slice(0, 4)) dPaid.push(await pay(d.id, r.payment, r.due_date));
  await post(`/loans/${d.id}/transactions/${dPaid[1].transaction.id}/return`, { date: "2026-09-01" }, 200);
  await post(`/loans/${d.id}/transactions/${dPaid[3].transaction.id}/rebook`, { trade_date: "2026-09-10" }, 200);
  ids.push(d.id);

  // Pending and cancelled.
  ids.push(await create({ product_id: installment, principal: "3000.00", term_months: 6 }));
  const cancelled = await create({ product_id: installment, principal: "3000.00", term_months: 6 });
  await post(`/loans/${cancelled}/cancel`, undefined, 200);
  ids.push(cancelled);

  // Leases: rent paid; one bought out.
  const l1 = await open({ product_id: lease, capitalized_cost: "30000.00", term_months: 36, annual_rate: "0.0600", borrower: borrower("east", 700) }, "2026-06-01");
  for (const r of l1.schedule.slice(0, 2)) await pay(l1.id, r.payment, r.due_date);
  ids.push(l1.id);
  const l2 = await open({ product_id: lease, capitalized_cost: "18000.00", term_months: 24, annual_rate: "0.0550" }, "2026-06-01");
  await pay(l2.id, l2.schedule[0].payment, l2.schedule[0].due_date);
  await post(`/loans/${l2.id}/buyout`, { date: "2026-08-15", idempotency_key: `ev-${++keys}` });
  ids.push(l2.id);

  // Lines of credit: draws, payments, a statement.
  const c1 = await open({ product_id: line, credit_limit: "10000.00", term_months: 60, annual_rate: "0.1800", borrower: borrower("north", 690) }, "2026-06-01");
  await post(`/loans/${c1.id}/draws`, { amount: "3000.00", date: "2026-06-05", idempotency_key: `ev-${++keys}` });
  await post(`/loans/${c1.id}/draws`, { amount: "2000.00", date: "2026-07-10", idempotency_key: `ev-${++keys}` });
  await pay(c1.id, "500.00", "2026-08-01");
  // Last: a statement due in the future, so the line stays active and no status changes with it.
  const today = businessToday(BUSINESS_TZ);
  await post(`/loans/${c1.id}/statements`, { statement_date: today, due_date: DateTime.fromISO(today).plus({ days: 20 }).toISODate() });
  ids.push(c1.id);
  const c2 = await open({ product_id: line, credit_limit: "5000.00", term_months: 60, annual_rate: "0.2100" }, "2026-06-01");
  await post(`/loans/${c2.id}/draws`, { amount: "1000.00", date: "2026-06-10", idempotency_key: `ev-${++keys}` });
  await post(`/loans/${c2.id}/statements`, { statement_date: "2026-07-01", due_date: "2026-07-25" });
  await pay(c2.id, "200.00", "2026-07-20");
  await post(`/loans/${c2.id}/statements`, { statement_date: "2026-08-01", due_date: "2026-08-25" });
  ids.push(c2.id);
  return ids;
}

const ATTRIBUTES = ["external_id", "product_id", "program_id", "program_type", "interest_rate_type", "origination_date", "vintage", "annual_rate", "term_months", "maturity_date", "index_name", "margin", "region", "credit_score", "currency"];

it("a consumer in another process rebuilds every loan's position from the events alone", async () => {
  const ids = await workload();
  const loans = await Promise.all(ids.map((id) => loanOf(base, id)));
  expect(new Set(loans.map((l) => l.status))).toEqual(new Set(["active", "delinquent", "paid_off", "pending", "cancelled", "closed"]));
  expect(new Set(loans.map((l) => l.program_type))).toEqual(new Set(["installment", "lease", "line_of_credit"]));

  const projected = projection.collection("loan_projection");
  // Caught up: every loan's projection at the version the loans service holds.
  await eventually(async () => {
    const docs = await projected.find({ _id: { $in: ids as any[] } }).toArray();
    const held = new Map(docs.map((d: any) => [d._id, d.version]));
    return loans.every((l) => held.get(l.id) === l.version);
  }, 60_000).catch(async (err) => {
    const docs = await projected.find({}).toArray();
    const behind = loans.filter((l) => docs.find((d: any) => d._id === l.id)?.version !== l.version).map((l) => ({ id: l.id, status: l.status, version: l.version, projected: docs.find((d: any) => d._id === l.id)?.version ?? null }));
    throw new Error(`${(err as Error).message}: behind ${JSON.stringify(behind)}\n${consumerOut}`);
  });

  for (const loan of loans) {
    const p: any = await projected.findOne({ _id: loan.id as any });
    expect({ id: loan.id, version: p.version, state: p.state }).toEqual({ id: loan.id, version: loan.version, state: loan.position });
    expect(Object.fromEntries(ATTRIBUTES.map((k) => [k, p.attributes[k]]))).toEqual(Object.fromEntries(ATTRIBUTES.map((k) => [k, loan[k]])));
  }
  // Every version a loan went through was published (version 1 is the unpublished insert that
  // the `loan.created` mutation, version 2, follows at once).
  const events = await projection.useDb(new URL(sys.mongoUrl).pathname.slice(1)).collection("loans_outbox").find({}, { projection: { "payload.loan_id": 1, "payload.version": 1 } }).toArray();
  for (const loan of loans) {
    const versions = new Set(events.filter((e: any) => e.payload?.loan_id === loan.id).map((e: any) => e.payload.version));
    expect({ id: loan.id, versions: [...versions].sort((x, y) => x - y) }).toEqual({ id: loan.id, versions: Array.from({ length: loan.version - 1 }, (_, i) => i + 2) });
  }
  // The money figures the brief names, spelled out for the reader of a failure.
  const named = (s: any) => [s.principal_balance, s.interest_receivable, s.fees_due, s.credit_balance, s.status, s.days_past_due];
  const docs = await projected.find({ _id: { $in: ids as any[] } }).toArray();
  expect(Object.fromEntries(docs.map((d: any) => [d._id, named(d.state)]))).toEqual(Object.fromEntries(loans.map((l) => [l.id, named(l.position)])));
}, 180_000);
