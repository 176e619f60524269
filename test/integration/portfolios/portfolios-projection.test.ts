/**
 * The portfolios service's loan projection and daily job in one process (in-process durable
 * bus, real MongoDB wire server): close-of-business batches, stale events, and an auto-assign
 * run that died part-way being finished by the next run of the same date.
 */
import type { ServiceBroker } from "moleculer";
import { Types } from "mongoose";
import { startTestMongo, uniqueDbUrl, type RunningMongo } from "../../support/mongo";
import { eventually, startNode } from "../../support/system";
import { MongoMixin } from "../../../shared/db/mongo.mixin";
import { DurableEventsMixin } from "../../../shared/events/durable-events.mixin";
import { LoanEvents, type LoanCloseBatchEvent } from "../../../shared/contracts/loans";
import { attributes, position, tx } from "../../unit/portfolios/fixtures";
import { keepPublishedOutboxRecords } from "../../support/events/keep-published";

keepPublishedOutboxRecords();

let mongo: RunningMongo;
let broker: ServiceBroker;
let svc: any;
const admin = { meta: { user: { role: "admin", token_id: "t" } } } as const;

beforeAll(async () => {
  mongo = await startTestMongo();
  broker = await startNode({
    nodeID: "pf-local",
    services: ["portfolios"],
    mongoUrl: uniqueDbUrl(mongo.url, "pf_projection"),
    extraServices: [{ name: "loanfeed", mixins: [MongoMixin({}), DurableEventsMixin()], actions: { publish: { async handler(this: any, ctx: any) { await this.publishDurable(ctx.params.subject, ctx.params.id, ctx.params.payload); } } } }],
  });
  svc = broker.getLocalService("portfolios");
});
afterAll(async () => {
  await broker?.stop();
  await mongo?.stop();
});

const publish = (subject: string, id: string, payload: unknown) => broker.call("loanfeed.publish", { subject, id, payload });
const doc = (id: string) => svc.models.portfolio_loans.findById(id).lean();

async function disburse(loanId: string, version: number, state = {}) {
  await publish(LoanEvents.disbursed, `d:${loanId}`, {
    event_id: `d:${loanId}`, loan_id: loanId, version, occurred_at: new Date().toISOString(), actor: null,
    attributes: attributes({ loan_id: loanId }), state: position(state), disbursement: tx(`${loanId}-d`, "disbursement", "2026-01-15", { loan_id: loanId }),
  });
  await eventually(async () => (await doc(loanId))?.version === version);
}

it("applies close-of-business batches to newer versions only, leaving the ledger alone", async () => {
  const a = new Types.ObjectId().toHexString();
  const b = new Types.ObjectId().toHexString();
  await disburse(a, 5);
  const batch: LoanCloseBatchEvent = {
    event_id: "cob:2026-02-01:0:0", business_date: "2026-02-01", partition: 0, chunk: 0, occurred_at: new Date().toISOString(),
    loans: [
      { loan_id: a, version: 4, attributes: attributes({ loan_id: a }), state: position({ days_past_due: 99 }) }, // stale
      { loan_id: b, version: 3, attributes: attributes({ loan_id: b, region: "CA" }), state: position({ days_past_due: 12, bucket: "1_29", status: "delinquent" }) }, // new to us
    ],
  };
  await publish(LoanEvents.closeBatch, batch.event_id, batch);
  await eventually(async () => (await doc(b))?.version === 3);
  expect((await doc(b)).state).toMatchObject({ days_past_due: 12, status: "delinquent" });
  expect((await doc(b)).m.status).toBe("delinquent");
  expect((await doc(a)).state.days_past_due).toBe(0);
  await publish(LoanEvents.closeBatch, "cob:2026-02-02:0:0", { ...batch, event_id: "cob:2026-02-02:0:0", loans: [{ ...batch.loans[0], version: 6, state: position({ days_past_due: 3 }) }] });
  await eventually(async () => (await doc(a))?.version === 6);
  expect((await doc(a)).state.days_past_due).toBe(3);
  expect((await doc(a)).ledger.map((e: any) => e.id)).toEqual([`${a}-d`]);
});

it("finishes an auto-assign run that died after claiming loans: history, events and dates, once", async () => {
  const p: any = await broker.call("portfolios.createPortfolio", { name: "Recover", user_code: "t:recover", criteria: { field: "region", op: "eq", value: "TX" } }, admin);
  const loan = new Types.ObjectId().toHexString();
  await publish(LoanEvents.disbursed, `d:${loan}`, { event_id: `d:${loan}`, loan_id: loan, version: 2, occurred_at: new Date().toISOString(), actor: null, attributes: attributes({ loan_id: loan, region: "TX" }), state: position(), disbursement: tx(`${loan}-d`, "disbursement", "2026-01-09", { loan_id: loan }) });
  await eventually(async () => (await doc(loan))?.version === 2);
  // The dead run: it marked itself running and claimed the loan, then the process died.
  await svc.models.auto_assign_runs.create({ _id: "2026-06-01", status: "running", started_at: new Date() });
  await svc.models.loan_claims.create({ _id: loan, portfolio_id: p.id, since: "2026-06-01", source: "auto_assign", membership_id: `${loan}:2026-06-01:${p.id}:auto` });

  const result: any = await broker.call("portfolios.autoAssign", { business_date: "2026-06-01" });
  expect(result.by_portfolio[p.id]).toBe(1);
  const history = await svc.models.portfolio_memberships.find({ loan_id: loan }).lean();
  expect(history).toEqual([expect.objectContaining({ portfolio_id: p.id, added_on: "2026-06-01", source: "auto_assign", removed_on: null })]);
  const batches = await svc.db.collection("portfolios_outbox").find({ subject: "portfolio.loans.added" }).toArray();
  expect(batches.flatMap((b: any) => b.payload.memberships).filter((m: any) => m.loan_id === loan)).toHaveLength(1);
  expect(await svc.models.portfolios.findById(p.id).lean()).toMatchObject({ first_transaction_date: "2026-01-09", first_cash_flow_date: "2026-01-09" });
  expect(await broker.call("portfolios.autoAssign", { business_date: "2026-06-01" })).toMatchObject({ repeated: true });
});

it("refuses a static add racing another portfolio for the same loan: exactly one wins", async () => {
  const loan = new Types.ObjectId().toHexString();
  await disburse(loan, 2);
  const mk = (code: string) => broker.call("portfolios.createPortfolio", { name: code, user_code: `t:${code}` }, admin) as Promise<any>;
  const [p1, p2] = await Promise.all([mk("race1"), mk("race2")]);
  const results = await Promise.allSettled([p1, p2].map((p) => broker.call("portfolios.addLoan", { id: p.id, loan_id: loan, effective_date: "2026-03-01" }, admin)));
  expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
  const rejected = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
  expect(rejected.reason.code).toBe(409);
  expect(await svc.models.portfolio_memberships.countDocuments({ loan_id: loan })).toBe(1);
});
