/**
 * Issue 11 points 2, 3 and 6 at the scale where the daily job's one streamed pass writes rows as
 * they go (more loans than it reads between two flushes): the snapshots service on the real wire
 * server, a projection of 12,000 stored loans (some without a position yet, some originated after
 * D, memberships that ended, a sold portfolio, documents of the older nested shape), one
 * `snapshots.run`. Every portfolio's snapshot, rows and buyer's view, and every program and vintage,
 * equal the pure functions applied to the projection read loan by loan.
 */
import { ServiceBroker } from "moleculer";
import { brokerOptions } from "../../../moleculer.config";
import { readConfig } from "../../../shared/config";
import { startTestMongo, uniqueDbUrl } from "../../support/mongo";
import type { RunningMongo } from "../../../shared/runtime/mongo-server";
import SnapshotsService from "../../../services/snapshots.service";
import { toProjected, toStored } from "../../../services/snapshots/projection-store";
import { rowOf } from "../../../services/snapshots/take";
import { buyerView, groupMetrics, type SaleTerms } from "../../../shared/snapshots/group-metrics";
import { portfolioOn, positionsAsOf, type ProjectedLoan } from "../../../shared/snapshots/loan-projection";
import type { LoanAttributes, LoanPosition } from "../../../shared/contracts/loans";

const D = "2026-06-30";
const LOANS = 12_000;
const PORTFOLIOS = ["p-a", "p-b", "p-c", "p-sold"];
let mongo: RunningMongo;
let broker: ServiceBroker;
let svc: any;

let seed = 11;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const cents = (lo: number, hi: number) => (lo + Math.floor(rnd() * (hi - lo) * 100) / 100).toFixed(2);
const day = (m: number, d: number) => `2026-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`;

function loan(i: number): ProjectedLoan {
  const id = `L${String(i).padStart(6, "0")}`;
  const m = 1 + Math.floor(rnd() * 7); // a few originate in July, after D
  const origination = day(m, 1 + Math.floor(rnd() * 28));
  const dpd = [0, 0, 0, 3, 12, 45, 75, 100, 150][Math.floor(rnd() * 9)];
  const attributes: LoanAttributes = {
    loan_id: id, external_id: null, product_id: "prod", program_id: `prog-${i % 3}`, program_type: "installment", interest_rate_type: "fixed",
    origination_date: origination, vintage: origination.slice(0, 7), principal: "5000.00", annual_rate: (0.05 + rnd() * 0.2).toFixed(4), term_months: 24,
    maturity_date: null, index_name: null, margin: null, region: null, credit_score: null, currency: "USD",
    ...(i % 10 === 0 ? {} : { grace_period_days: 5 }),
  };
  const state: LoanPosition = {
    status: dpd > 5 ? "delinquent" : "active", principal_balance: cents(0, 5000), interest_receivable: cents(0, 40), fees_due: "0.00", deferred_interest: "0.00",
    credit_balance: "0.00", past_due_amount: "0.00", days_past_due: dpd, bucket: "current", next_due_date: null, next_payment_amount: null, total_disbursed: "5000.00",
    total_collected: "0.00", as_of: i % 97 === 0 ? "2026-06-29" : D, closed_through: i % 97 === 0 ? "2026-06-29" : D, portfolio_id: null, investor_id: null,
  };
  const flows = [{ tx_id: `${id}-0`, date: origination, amount: "-5000.00", type: "disbursement", v: 1, gone: false }];
  for (let k = 1; k <= 4; k++) flows.push({ tx_id: `${id}-${k}`, date: day(Math.min(12, m + k), 5 + k), amount: cents(50, 400), type: "payment", v: 1 + k, gone: k === 2 && i % 5 === 0 });
  const p = PORTFOLIOS[i % PORTFOLIOS.length];
  // memberships: most still in; some left before D; some arrive after D
  const spans = i % 11 === 0 ? [{ portfolio_id: p, from: "2026-01-01", to: "2026-05-01" }] : i % 13 === 0 ? [{ portfolio_id: p, from: "2026-07-01", to: null }] : [{ portfolio_id: p, from: "2026-01-01", to: null }];
  return { _id: id, version: 3 + (i % 4), attributes: i % 250 === 0 ? null : attributes, state: i % 250 === 0 ? null : state, flows, spans };
}

const book = Array.from({ length: LOANS }, (_, i) => loan(i));
const sale: SaleTerms = { investor_id: "inv", sale_date: "2026-04-15", price: "1000000.00", loan_ids: book.filter((l) => l.spans[0].portfolio_id === "p-sold").slice(0, 2000).map((l) => l._id) };

beforeAll(async () => {
  mongo = await startTestMongo();
  broker = new ServiceBroker({ ...brokerOptions(readConfig({ LOG_LEVEL: "warn" }), { mongoUrl: uniqueDbUrl(mongo.url, "snapshots_pass") }), skipProcessEventRegistration: true });
  broker.createService(SnapshotsService as any);
  await broker.start();
  svc = broker.getLocalService("snapshots");
  await svc.models.snapshot_portfolios.collection.insertMany(PORTFOLIOS.map((id) => ({ _id: id, version: 1, name: id, program_id: null, status: id === "p-sold" ? "sold" : "open", sale: id === "p-sold" ? sale : null })));
  // most in the stored shape; every 7th in the older nested one
  const docs = book.map((p, i) => (i % 7 === 0 ? { _id: p._id, rev: 1, version: p.version, attributes: p.attributes, state: p.state, flows: p.flows, spans: p.spans } : { _id: p._id, rev: 1, ...toStored(p) }));
  for (let i = 0; i < docs.length; i += 3000) await svc.models.snapshot_loans.collection.insertMany(docs.slice(i, i + 3000));
}, 120_000);

afterAll(async () => {
  await broker?.stop();
  await mongo?.stop();
});

const strip = ({ id: _id, _id: _o, portfolio_id: _p, business_date: _b, kind: _k, taken_at: _t, buyer: _by, positions_as_of: _pa, ...metrics }: any) => metrics;

it("one pass: every snapshot, its rows, and the program and vintage metrics equal the projection's", async () => {
  const r: any = await broker.call("snapshots.run", { business_date: D }, { timeout: 120_000 });
  expect(r.counts).toMatchObject({ loans: LOANS, portfolios: PORTFOLIOS.length, programs: 3 });

  for (const pid of PORTFOLIOS) {
    const members = book.filter((l) => l.state && l.attributes && portfolioOn(l, D) === pid);
    const { snapshot, loans } = (await broker.call("snapshots.portfolioLoans", { portfolio_id: pid, business_date: D })) as any;
    expect(strip(snapshot)).toEqual(groupMetrics(D, members));
    expect(snapshot.loan_count).toBeGreaterThan(2000);
    expect(snapshot.positions_as_of).toBe(positionsAsOf(members));
    // the rows it saw, answered by loan id, are the members as rowOf shows them
    expect(loans).toEqual(JSON.parse(JSON.stringify(members.map((m) => rowOf(m, D)))));
    expect(snapshot.buyer).toEqual(pid === "p-sold" ? buyerView(sale, members, D) : null);
  }
  const originated = book.filter((l) => l.state && l.attributes && l.attributes.origination_date <= D);
  for (const level of ["program", "vintage"] as const) {
    const { items } = (await broker.call("snapshots.metrics", { level, date: D })) as any;
    const keys = [...new Set(originated.map((l) => (level === "program" ? l.attributes!.program_id : l.attributes!.vintage)))].sort();
    expect(items.map((x: any) => x.key)).toEqual(keys);
    for (const item of items) {
      const { key, ...metrics } = item;
      expect(metrics).toEqual(groupMetrics(D, originated.filter((l) => (level === "program" ? l.attributes!.program_id : l.attributes!.vintage) === key)));
    }
  }
  // the older shape was read as the newer one
  expect(toProjected((await svc.models.snapshot_loans.collection.findOne({ _id: book[7]._id })) as any, book[7]._id)).toEqual(book[7]);
}, 180_000);

it("the rows are stored in deflated chunks of bounded size, and a second run answers the first", async () => {
  const snap: any = await svc.models.snapshots.collection.findOne({ _id: `p-a:${D}` });
  expect(snap.row_chunks).toBeGreaterThan(1);
  const chunk: any = await svc.models.snapshot_rows.collection.findOne({ _id: `p-a:${D}:${snap.rows_token}:0` });
  expect(chunk.rows_z).toBeDefined();
  expect(chunk.rows_json).toBeUndefined();
  const chunks = await svc.models.snapshot_rows.collection.countDocuments({});
  const again: any = await broker.call("snapshots.run", { business_date: D });
  expect(again.repeated).toBe(true);
  expect(await svc.models.snapshot_rows.collection.countDocuments({})).toBe(chunks);
});
