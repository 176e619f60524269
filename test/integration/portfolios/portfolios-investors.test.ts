/**
 * Issue 10 through the gateway: a gateway node and a portfolios+investors node over a real
 * nats-server with JetStream, on the MongoDB wire server. The loans service's events are
 * published exactly as it publishes them: durably (outbox + JetStream) from a small service
 * (`loanfeed`) with DurableEventsMixin's publishDurable, payloads typed by shared/contracts/loans.ts.
 * A `watcher` consumes the portfolios' and investors' durable events as the loans service will.
 */
import type { ServiceBroker } from "moleculer";
import { Types } from "mongoose";
import Decimal from "decimal.js";
import { startNats, type RunningNats } from "../../support/nats";
import { startTestMongo, uniqueDbUrl } from "../../support/mongo";
import type { RunningMongo } from "../../../shared/runtime/mongo-server";
import { MongoMixin } from "../../../shared/db/mongo.mixin";
import { DurableEventsMixin } from "../../../shared/events/durable-events.mixin";
import type { DeliveredEvent } from "../../../shared/events/bus";
import { LoanEvents, type LoanAttributes, type LoanPosition } from "../../../shared/contracts/loans";
import { apiClient, eventually, gatewayUrl, startNode, TEST_TOKENS as T, waitForRoutes } from "../../support/system";
import { attributes, position, tx } from "../../unit/portfolios/fixtures";

let nats: RunningNats;
let mongo: RunningMongo;
let gw: ServiceBroker;
let pf: ServiceBroker;
let api: ReturnType<typeof apiClient>;
const seen: DeliveredEvent[] = [];

const loanFeed = {
  name: "loanfeed",
  mixins: [MongoMixin({}), DurableEventsMixin()],
  actions: {
    publish: {
      async handler(this: any, ctx: any) {
        await this.publishDurable(ctx.params.subject, ctx.params.id, ctx.params.payload);
      },
    },
  },
};
const watcher = {
  name: "watcher",
  mixins: [MongoMixin({}), DurableEventsMixin({ subscriptions: { "portfolio.>": "onEvent", "investor.>": "onEvent" } })],
  methods: {
    onEvent(event: DeliveredEvent) {
      seen.push(event);
    },
  },
};

beforeAll(async () => {
  [nats, mongo] = await Promise.all([startNats({ jetstream: true }), startTestMongo()]);
  const mongoUrl = uniqueDbUrl(mongo.url, "portfolios");
  pf = await startNode({ nodeID: "pf", services: ["portfolios", "investors"], mongoUrl, natsUrl: nats.url });
  gw = await startNode({ nodeID: "gw", services: ["gateway"], mongoUrl, natsUrl: nats.url, extraServices: [loanFeed, watcher] });
  await gw.waitForServices(["portfolios", "investors"], 15_000);
  await waitForRoutes(gw, ["POST /api/v1/portfolios", "POST /api/v1/portfolios/:id/sell", "GET /api/v1/investors/:id/assignments"]);
  api = apiClient(gatewayUrl(gw));
});

afterAll(async () => {
  await gw?.stop();
  await pf?.stop();
  await nats?.stop();
  await mongo?.stop();
});

// ── the loans service, as it publishes ────────────────────────────────────────────────────────
const versions = new Map<string, number>();
let eventSeq = 0;
async function loanEvent(subject: string, loanId: string, extra: Record<string, unknown> = {}, attrs: Partial<LoanAttributes> = {}, state: Partial<LoanPosition> = {}) {
  const version = (versions.get(loanId) ?? 0) + 1;
  versions.set(loanId, version);
  const id = `${subject}:${loanId}:${++eventSeq}`;
  const payload = { event_id: id, loan_id: loanId, version, occurred_at: new Date().toISOString(), attributes: attributes({ loan_id: loanId, ...attrs }), state: position(state), actor: null, ...extra };
  await gw.call("loanfeed.publish", { subject, id, payload });
}
const txEvent = (transaction: ReturnType<typeof tx>, more: Record<string, unknown> = {}) => ({ transaction, old_trade_date: null, new_trade_date: null, replayed_from: null, ...more });
async function newLoan(opts: { disbursed: string; attrs?: Partial<LoanAttributes>; state?: Partial<LoanPosition> }) {
  const loanId = new Types.ObjectId().toHexString();
  const attrs = { origination_date: opts.disbursed, vintage: opts.disbursed.slice(0, 7), ...opts.attrs };
  await loanEvent(LoanEvents.created, loanId, {}, attrs, { status: "pending", ...opts.state });
  await loanEvent(LoanEvents.disbursed, loanId, { disbursement: tx(`${loanId}-d`, "disbursement", opts.disbursed, { loan_id: loanId }) }, attrs, opts.state);
  return loanId;
}
const projected = (loanId: string, version?: number) =>
  eventually(async () => {
    const doc: any = await (pf.getLocalService("portfolios") as any).models.portfolio_loans.findById(loanId).lean();
    return doc && (version === undefined || doc.version >= version) ? doc : null;
  });

// ── helpers ────────────────────────────────────────────────────────────────────────────────────
const portfolioBody = (over: Record<string, unknown> = {}) => ({
  name: "Q1 2026 Consumer Installment",
  description: "Consumer installment loans originated in Q1 2026",
  user_code: "manual:obl01",
  portfolio_type: "manual",
  short_name: "Q1 Consumer",
  public_name: "Consumer Pool A",
  notes: "informative lists below are not strict",
  accounts: ["ACC-1"],
  transaction_types: ["payment", "disbursement"],
  responsibles: ["ops-team"],
  counterparties: ["Bank of Nowhere"],
  ...over,
});
const count = async (path: string) => (await api("GET", path, { token: T.admin })).body.total;
const getP = async (id: string, token: string = T.admin) => (await api("GET", `/api/v1/portfolios/${id}`, { token })).body;

describe("investors", () => {
  it("creates an investor whose bank details are encrypted at rest and masked in every answer", async () => {
    const res = await api("POST", "/api/v1/investors", {
      token: T.admin,
      body: { id: "inv-1", name: "Acme Credit Fund", investor_type: "fund", contact: { email: "ops@acme.example", phone: "+1 212 555 0100", address: "1 Wall St" }, bank_details: { bank_name: "First Bank", account_holder: "Acme Credit Fund LP", account_number: "000123456789", routing_number: "021000021" } },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ id: "inv-1", investor_type: "fund", bank_details: { account_number: "••••6789", routing_number: "••••0021", bank_name: "••••Bank" }, contact: { email: "ops@acme.example" } });
    const list = await api("GET", "/api/v1/investors", { token: T.analyst });
    expect(JSON.stringify(list.body)).not.toContain("123456789");
    const raw = await (pf.getLocalService("investors") as any).db.collection("investors").findOne({ _id: "inv-1" });
    const text = JSON.stringify(raw);
    for (const secret of ["000123456789", "021000021", "First Bank", "Acme Credit Fund LP"]) expect(text).not.toContain(secret);
    expect(raw.bank_details_sealed.kid).toBe("dev");
  });

  it("refuses bad investors naming every field, a duplicate id with 409, writes nothing", async () => {
    const before = await count("/api/v1/investors");
    const bad = await api("POST", "/api/v1/investors", { token: T.admin, body: { name: "", investor_type: "pension", contact: { email: "nope" }, bank_details: { account_number: "12<3", pin: "1" } } });
    expect(bad.status).toBe(400);
    const names = bad.body.error.data.fields.map((f: any) => f.field);
    expect(names).toEqual(expect.arrayContaining(["bank_details.account_number", "contact.email", "investor_type", "name"]));
    expect(names.some((n: string) => n.endsWith("pin"))).toBe(true); // the unknown key, however the validator names its path
    const dup = await api("POST", "/api/v1/investors", { token: T.admin, body: { id: "inv-1", name: "X", investor_type: "bank" } });
    expect(dup.status).toBe(409);
    expect(await count("/api/v1/investors")).toBe(before);
    expect((await api("POST", "/api/v1/investors", { token: T.servicer, body: { name: "X", investor_type: "bank" } })).status).toBe(403);
  });

  it("lets an investor token read its own record only", async () => {
    expect((await api("GET", "/api/v1/investors/inv-1", { token: T.investor })).status).toBe(200);
    const other = await api("POST", "/api/v1/investors", { token: T.admin, body: { id: "inv-2", name: "Other Bank", investor_type: "bank" } });
    expect(other.status).toBe(201);
    expect((await api("GET", "/api/v1/investors/inv-2", { token: T.investor })).status).toBe(404);
    expect((await api("GET", "/api/v1/investors", { token: T.investor })).status).toBe(403);
  });
});

describe("portfolios: fields and validation", () => {
  let id: string;

  it("creates a portfolio with every seed field; the first dates start null", async () => {
    const res = await api("POST", "/api/v1/portfolios", { token: T.servicer, body: portfolioBody() });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ ...portfolioBody(), status: "open", first_transaction_date: null, first_cash_flow_date: null, version: 1, priority: 100, criteria: null });
    id = res.body.id;
    await eventually(() => seen.some((e) => e.subject === "portfolio.changed" && (e.payload as any).portfolio_id === id));
  });

  it("prefixes a bare user code with its source and refuses a duplicate with 409", async () => {
    const res = await api("POST", "/api/v1/portfolios", { token: T.servicer, body: portfolioBody({ user_code: "obl02", name: "Second" }) });
    expect(res.body.user_code).toBe("api:obl02");
    expect((await api("POST", "/api/v1/portfolios", { token: T.servicer, body: portfolioBody({ name: "Dup" }) })).status).toBe(409);
  });

  it("refuses written first dates, status, an unknown type and a bad rule tree, naming each, and writes nothing", async () => {
    const before = await count("/api/v1/portfolios");
    const res = await api("POST", "/api/v1/portfolios", {
      token: T.servicer,
      body: portfolioBody({
        user_code: "manual:bad",
        portfolio_type: "hedge",
        first_transaction_date: "2026-01-01",
        first_cash_flow_date: "2026-01-01",
        status: "sold",
        criteria: { all: [{ field: "balance", op: "gte", value: "1000" }, { field: "colour", op: "eq", value: "red" }, { field: "credit_score", op: "around", value: 700 }, { field: "vintage", op: "eq", value: 2026 }] },
      }),
    });
    expect(res.status).toBe(400);
    expect(res.body.error.data.fields.map((f: any) => f.field).sort()).toEqual(
      ["criteria.all[1].field", "criteria.all[2].op", "criteria.all[3].value", "first_cash_flow_date", "first_transaction_date", "portfolio_type", "status"].sort(),
    );
    expect(await count("/api/v1/portfolios")).toBe(before);
  });

  it("patches with the version guard; maintained fields are refused; roles apply", async () => {
    const ok = await api("PATCH", `/api/v1/portfolios/${id}`, { token: T.servicer, body: { notes: "edited", version: 1 } });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ notes: "edited", version: 2 });
    expect((await api("PATCH", `/api/v1/portfolios/${id}`, { token: T.servicer, body: { notes: "x", version: 1 } })).status).toBe(409);
    const bad = await api("PATCH", `/api/v1/portfolios/${id}`, { token: T.servicer, body: { first_cash_flow_date: "2026-01-01", criteria: { any: [{ field: "balance", op: "gt", value: "abc" }] }, version: 2 } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.data.fields.map((f: any) => f.field).sort()).toEqual(["criteria.any[0].value", "first_cash_flow_date"]);
    expect((await getP(id)).version).toBe(2);
    expect((await api("PATCH", `/api/v1/portfolios/${id}`, { token: T.analyst, body: { notes: "x", version: 2 } })).status).toBe(403);
    expect((await api("GET", "/api/v1/portfolios/0123456789abcdef01234567", { token: T.analyst })).status).toBe(404);
  });
});

describe("membership, as-of answers and first dates", () => {
  let pid: string;
  let loanA: string;
  let loanB: string;

  beforeAll(async () => {
    pid = (await api("POST", "/api/v1/portfolios", { token: T.servicer, body: portfolioBody({ user_code: "manual:static1", name: "Static" }) })).body.id;
    loanA = await newLoan({ disbursed: "2026-01-15" });
    loanB = await newLoan({ disbursed: "2026-01-20" });
    await Promise.all([projected(loanA, 2), projected(loanB, 2)]);
  });

  it("adds a loan (first dates follow), keeps a loan in one portfolio, 404 for an unknown loan", async () => {
    const add = await api("POST", `/api/v1/portfolios/${pid}/loans`, { token: T.servicer, body: { loan_id: loanA, effective_date: "2026-02-01" } });
    expect(add.status).toBe(201);
    expect(await getP(pid)).toMatchObject({ first_transaction_date: "2026-01-15", first_cash_flow_date: "2026-01-15" });
    const other = (await api("POST", "/api/v1/portfolios", { token: T.servicer, body: portfolioBody({ user_code: "manual:other1", name: "Other" }) })).body.id;
    expect((await api("POST", `/api/v1/portfolios/${other}/loans`, { token: T.servicer, body: { loan_id: loanA } })).status).toBe(409);
    expect((await api("POST", `/api/v1/portfolios/${pid}/loans`, { token: T.servicer, body: { loan_id: "0123456789abcdef01234567" } })).status).toBe(404);
    // A retried add is answered again and changes nothing.
    expect((await api("POST", `/api/v1/portfolios/${pid}/loans`, { token: T.servicer, body: { loan_id: loanA, effective_date: "2026-02-01" } })).status).toBe(201);
    await eventually(() => seen.filter((e) => e.subject === "portfolio.loan.added" && (e.payload as any).loan_id === loanA).length === 1);
  });

  it("maintains the first dates from the loans' book, rebook and delete events", async () => {
    // An earlier non-cash fee: the transaction date moves, the cash-flow date does not.
    await loanEvent(LoanEvents.transactionBooked, loanA, txEvent(tx(`${loanA}-fee`, "fee", "2026-01-10", { loan_id: loanA })));
    await eventually(async () => (await getP(pid)).first_transaction_date === "2026-01-10");
    expect((await getP(pid)).first_cash_flow_date).toBe("2026-01-15");
    // Rebook the disbursement later: the cash-flow date is found anew from the ledger (only it).
    await loanEvent(LoanEvents.transactionRebooked, loanA, txEvent(tx(`${loanA}-d2`, "disbursement", "2026-01-25", { loan_id: loanA, rebooked_from: `${loanA}-d` }), { old_trade_date: "2026-01-15", new_trade_date: "2026-01-25" }));
    await eventually(async () => (await getP(pid)).first_cash_flow_date === "2026-01-25");
    // Delete the fee: the transaction date is found anew.
    await loanEvent(LoanEvents.transactionReversed, loanA, txEvent(tx(`${loanA}-fee`, "fee", "2026-01-10", { loan_id: loanA, status: "reversed" }), { reversal: tx(`${loanA}-rev`, "fee_waiver", "2026-01-11", { loan_id: loanA }) }));
    await eventually(async () => (await getP(pid)).first_transaction_date === "2026-01-25");
    // Loan B joins with an earlier disbursement, then leaves: the dates follow both ways.
    expect((await api("POST", `/api/v1/portfolios/${pid}/loans`, { token: T.servicer, body: { loan_id: loanB, effective_date: "2026-02-01" } })).status).toBe(201);
    expect(await getP(pid)).toMatchObject({ first_transaction_date: "2026-01-20", first_cash_flow_date: "2026-01-20" });
    expect((await api("DELETE", `/api/v1/portfolios/${pid}/loans/${loanB}?effective_date=2026-02-01`, { token: T.servicer })).status).toBe(200);
    expect(await getP(pid)).toMatchObject({ first_transaction_date: "2026-01-25", first_cash_flow_date: "2026-01-25" });
  });

  it("keeps a program-scoped portfolio to its program's loans (422 otherwise)", async () => {
    const program = new Types.ObjectId().toHexString();
    const scoped = (await api("POST", "/api/v1/portfolios", { token: T.servicer, body: portfolioBody({ user_code: "manual:scoped", name: "Scoped", program_id: program }) })).body.id;
    const other = await api("POST", `/api/v1/portfolios/${scoped}/loans`, { token: T.servicer, body: { loan_id: loanB, effective_date: "2026-02-02" } });
    expect(other.status).toBe(422);
    expect(other.body.error.data.rule).toBe("program_scope");
    const own = await newLoan({ disbursed: "2026-01-21", attrs: { program_id: program } });
    await projected(own, 2);
    expect((await api("POST", `/api/v1/portfolios/${scoped}/loans`, { token: T.servicer, body: { loan_id: own, effective_date: "2026-02-02" } })).status).toBe(201);
  });

  it("answers membership as of any past date: add, remove, re-add", async () => {
    const r1 = await api("DELETE", `/api/v1/portfolios/${pid}/loans/${loanA}?effective_date=2026-03-01`, { token: T.servicer });
    expect(r1.status).toBe(200);
    expect((await api("DELETE", `/api/v1/portfolios/${pid}/loans/${loanA}`, { token: T.servicer })).status).toBe(404);
    const early = await api("POST", `/api/v1/portfolios/${pid}/loans`, { token: T.servicer, body: { loan_id: loanA, effective_date: "2026-02-15" } });
    expect(early.status).toBe(400);
    expect(early.body.error.data.fields[0].field).toBe("effective_date");
    expect((await api("POST", `/api/v1/portfolios/${pid}/loans`, { token: T.servicer, body: { loan_id: loanA, effective_date: "2026-04-01" } })).status).toBe(201);
    const members = async (d: string) => (await api("GET", `/api/v1/portfolios/${pid}/loans?as_of=${d}`, { token: T.analyst })).body.items.map((l: any) => l.loan_id).sort();
    expect(await members("2026-01-31")).toEqual([]);
    expect(await members("2026-02-01")).toEqual([loanA]); // B joined and left on 2026-02-01: never a member
    expect(await members("2026-02-28")).toEqual([loanA]);
    expect(await members("2026-03-01")).toEqual([]);
    expect(await members("2026-03-31")).toEqual([]);
    expect(await members("2026-04-01")).toEqual([loanA]);
    const now = await api("GET", `/api/v1/portfolios/${pid}/loans`, { token: T.analyst });
    expect(now.body.items.map((l: any) => [l.loan_id, l.member_since])).toEqual([[loanA, "2026-04-01"]]);
    await eventually(() => seen.filter((e) => e.subject === "portfolio.loan.removed" && (e.payload as any).portfolio_id === pid).length === 2);
  });
});

describe("auto-assign", () => {
  let high: string;
  let low: string;
  let later: string;
  let scoped: string;
  const loans: Record<string, string> = {};

  beforeAll(async () => {
    const mk = async (code: string, priority: number, criteria: unknown, more: Record<string, unknown> = {}) =>
      (await api("POST", "/api/v1/portfolios", { token: T.servicer, body: portfolioBody({ user_code: code, name: code, priority, criteria, ...more }) })).body.id;
    // First in line and matching every active loan, but scoped to a program none of them has.
    scoped = await mk("auto:scoped", 1, { field: "status", op: "eq", value: "active" }, { program_id: new Types.ObjectId().toHexString() });
    // Same priority as `high` but created later: `high` wins a loan both match.
    high = await mk("auto:high", 10, { all: [{ field: "program_type", op: "eq", value: "installment" }, { field: "balance", op: "gte", value: "5000.00" }] });
    later = await mk("auto:later", 10, { field: "program_type", op: "eq", value: "installment" });
    low = await mk("auto:low", 20, { any: [{ field: "region", op: "in", value: ["CA", "TX"] }, { field: "vintage", op: "eq", value: "2025-12" }] });
    loans.big = await newLoan({ disbursed: "2026-01-05", state: { principal_balance: "9000.00" } });
    loans.small = await newLoan({ disbursed: "2026-01-06", state: { principal_balance: "1000.00" } });
    loans.lease = await newLoan({ disbursed: "2025-12-06", attrs: { program_type: "lease", region: "CA" } });
    loans.none = await newLoan({ disbursed: "2026-01-07", attrs: { program_type: "line_of_credit", region: "NY" } });
    loans.late = await newLoan({ disbursed: "2026-01-08", attrs: { program_type: "lease" }, state: { status: "delinquent" } });
    await Promise.all(Object.values(loans).map((l) => projected(l, 2)));
  });

  it("assigns unassigned active loans by priority then age, once per business date, from the scheduler's tick", async () => {
    await gw.call("loanfeed.publish", { subject: "scheduler.tick.auto_assign", id: "auto_assign:2026-05-01", payload: { tick_id: "auto_assign:2026-05-01", job: "auto_assign", business_date: "2026-05-01", emitted_at: new Date().toISOString(), trigger: "admin" } });
    const memberOf = async (id: string) => (await api("GET", `/api/v1/portfolios/${id}/loans`, { token: T.admin })).body.items.map((l: any) => l.loan_id).sort();
    // Loans left unassigned by the tests above take part too: assert on this block's own loans.
    await eventually(async () => (await memberOf(high)).includes(loans.big), 20_000);
    const [h, l8, lo] = [await memberOf(high), await memberOf(later), await memberOf(low)];
    expect(l8).toEqual([loans.small]);
    expect(await memberOf(scoped)).toEqual([]);
    expect(lo).toEqual([loans.lease]);
    for (const unmatched of [loans.none, loans.late]) expect([...h, ...l8, ...lo]).not.toContain(unmatched);
    const again: any = await pf.call("portfolios.autoAssign", { business_date: "2026-05-01" });
    expect(again).toMatchObject({ repeated: true, assigned: h.length + l8.length + lo.length });
    expect((await getP(high)).first_cash_flow_date).toBe("2026-01-05");
    const items = (await api("GET", `/api/v1/portfolios/${low}/loans?as_of=2026-05-01`, { token: T.admin })).body.items;
    expect(items.map((l: any) => [l.loan_id, l.source])).toEqual([[loans.lease, "auto_assign"]]);
    expect(await pf.call("portfolios.autoAssign", { business_date: "2026-05-02" })).toMatchObject({ assigned: 0 });
    // One batch event carries the run's assignments, each entry a portfolio.loan.added payload.
    const entries = () => seen.filter((e) => e.subject === "portfolio.loans.added").flatMap((e) => (e.payload as any).memberships);
    await eventually(() => entries().length === again.assigned);
    expect(entries().find((m: any) => m.loan_id === loans.big)).toMatchObject({ portfolio_id: high, effective_date: "2026-05-01", source: "auto_assign", event_id: expect.stringContaining(loans.big) });
  });
});

describe("sale, assignments and investor access", () => {
  let pid: string;
  let other: string;
  const ids: string[] = [];

  beforeAll(async () => {
    pid = (await api("POST", "/api/v1/portfolios", { token: T.servicer, body: portfolioBody({ user_code: "sale:one", name: "For sale", public_name: "Pool S" }) })).body.id;
    other = (await api("POST", "/api/v1/portfolios", { token: T.servicer, body: portfolioBody({ user_code: "sale:other", name: "Not yours", public_name: "Pool O" }) })).body.id;
    for (const balance of ["1000.00", "2000.00", "0.00"]) ids.push(await newLoan({ disbursed: "2026-01-10", state: { principal_balance: balance } }));
    await Promise.all(ids.map((l) => projected(l, 2)));
    for (const l of ids) expect((await api("POST", `/api/v1/portfolios/${pid}/loans`, { token: T.servicer, body: { loan_id: l, effective_date: "2026-02-01" } })).status).toBe(201);
  });

  const assignments = async () => (await api("GET", "/api/v1/investors/inv-1/assignments?limit=500", { token: T.admin })).body.items.filter((a: any) => a.portfolio_id === pid);

  it("refuses a sale with a zero-balance loan (422 naming it), an unknown buyer (400) and bad per-loan prices (400), writing nothing", async () => {
    const zero = await api("POST", `/api/v1/portfolios/${pid}/sell`, { token: T.servicer, body: { investor_id: "inv-1", sale_date: "2026-03-01", price: "2700.00" } });
    expect(zero.status).toBe(422);
    expect(zero.body.error.data.loan_ids).toEqual([ids[2]]);
    expect((await api("DELETE", `/api/v1/portfolios/${pid}/loans/${ids[2]}?effective_date=2026-02-20`, { token: T.servicer })).status).toBe(200);
    const nobody = await api("POST", `/api/v1/portfolios/${pid}/sell`, { token: T.servicer, body: { investor_id: "inv-9", sale_date: "2026-03-01", price: "2700.00" } });
    expect(nobody.status).toBe(400);
    expect(nobody.body.error.data.fields[0].field).toBe("investor_id");
    const prices = await api("POST", `/api/v1/portfolios/${pid}/sell`, { token: T.servicer, body: { investor_id: "inv-1", sale_date: "2026-03-01", price: "2700.00", prices: [{ loan_id: ids[0], price: "900.00" }, { loan_id: ids[2], price: "1.00" }] } });
    expect(prices.status).toBe(400);
    expect(prices.body.error.data.fields.map((f: any) => f.field).sort()).toEqual(["prices", "prices", "prices[1].loan_id"]);
    const bad = await api("POST", `/api/v1/portfolios/${pid}/sell`, { token: T.servicer, body: { investor_id: "inv-1", sale_date: "2026-02-30", price: "27.001", extra: 1 } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.data.fields.map((f: any) => f.field).sort()).toEqual(["extra", "price", "sale_date"]);
    expect((await getP(pid)).status).toBe("open");
    expect(await assignments()).toEqual([]);
  });

  it("sells: price split by balance summing exactly, one assignment per loan, portfolio.sold emitted; a retry does not double", async () => {
    const res = await api("POST", `/api/v1/portfolios/${pid}/sell`, { token: T.servicer, body: { investor_id: "inv-1", sale_date: "2026-03-01", price: "2000.00" } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "sold", sale: { investor_id: "inv-1", sale_date: "2026-03-01", price: "2000.00", loan_count: 2 } });
    // 1000 : 2000 of 2000.00 → 666.666… and 1333.333…: the leftover cent to the larger remainder.
    expect(res.body.sale.lines.map((l: any) => [l.loan_id, l.purchase_price])).toEqual([[ids[0], "666.67"], [ids[1], "1333.33"]].sort());
    const got = await eventually(async () => ((await assignments()).length === 2 ? assignments() : null));
    expect(got.reduce((s: Decimal, a: any) => s.plus(a.purchase_price), new Decimal(0)).toFixed(2)).toBe("2000.00");
    expect(got.every((a: any) => a.assignment_date === "2026-03-01")).toBe(true);
    await eventually(() => seen.some((e) => e.subject === "portfolio.sold" && (e.payload as any).portfolio_id === pid));
    await eventually(() => seen.filter((e) => e.subject === "investor.assignment.created" && (e.payload as any).portfolio_id === pid).length === 2);
    const retry = await api("POST", `/api/v1/portfolios/${pid}/sell`, { token: T.servicer, body: { investor_id: "inv-1", sale_date: "2026-03-01", price: "2000.00" } });
    expect(retry.status).toBe(200);
    expect(await assignments()).toHaveLength(2);
  });

  it("sold is final: another sale, a close, an add, a remove or a patch is 409", async () => {
    expect((await api("POST", `/api/v1/portfolios/${pid}/sell`, { token: T.servicer, body: { investor_id: "inv-2", sale_date: "2026-03-02", price: "1.00" } })).status).toBe(409);
    expect((await api("POST", `/api/v1/portfolios/${pid}/close`, { token: T.servicer })).status).toBe(409);
    expect((await api("POST", `/api/v1/portfolios/${pid}/loans`, { token: T.servicer, body: { loan_id: ids[2] } })).status).toBe(409);
    expect((await api("DELETE", `/api/v1/portfolios/${pid}/loans/${ids[0]}`, { token: T.servicer })).status).toBe(409);
    const version = (await getP(pid)).version;
    expect((await api("PATCH", `/api/v1/portfolios/${pid}`, { token: T.servicer, body: { notes: "x", version } })).status).toBe(409);
  });

  it("closed → sold: a closed portfolio takes no loans but sells", async () => {
    const loan = await newLoan({ disbursed: "2026-01-12", state: { principal_balance: "500.00" } });
    await projected(loan, 2);
    expect((await api("POST", `/api/v1/portfolios/${other}/loans`, { token: T.servicer, body: { loan_id: loan, effective_date: "2026-02-21" } })).status).toBe(201);
    const closed = await api("POST", `/api/v1/portfolios/${other}/close`, { token: T.servicer });
    expect(closed.body.status).toBe("closed");
    expect((await api("POST", `/api/v1/portfolios/${other}/loans`, { token: T.servicer, body: { loan_id: ids[2] } })).status).toBe(409);
    expect((await api("DELETE", `/api/v1/portfolios/${other}/loans/${loan}`, { token: T.servicer })).status).toBe(409);
    expect((await api("POST", `/api/v1/portfolios/${other}/close`, { token: T.servicer })).status).toBe(409);
    const sold = await api("POST", `/api/v1/portfolios/${other}/sell`, { token: T.servicer, body: { investor_id: "inv-2", sale_date: "2026-03-02", price: "480.00", prices: [{ loan_id: loan, price: "480.00" }] } });
    expect(sold.status).toBe(200);
    expect(sold.body.sale.lines).toEqual([{ assignment_id: `${other}:${loan}`, loan_id: loan, purchase_price: "480.00", principal_balance: "500.00" }]);
  });

  it("an investor sees its own portfolio and loans in full, others only as { id, public_name } and none of their loans", async () => {
    const list = await api("GET", "/api/v1/portfolios?limit=500", { token: T.investor });
    expect(list.status).toBe(200);
    const own = list.body.items.find((p: any) => p.id === pid);
    expect(own).toMatchObject({ name: "For sale", status: "sold", sale: { investor_id: "inv-1" } });
    const notMine = list.body.items.filter((p: any) => p.id !== pid);
    expect(notMine.length).toBeGreaterThan(0);
    for (const p of notMine) expect(Object.keys(p).sort()).toEqual(["id", "public_name"]);
    expect(await getP(other, T.investor)).toEqual({ id: other, public_name: "Pool O" }); // sold, but to inv-2
    // A filter narrows its own portfolios only: the others are listed whatever it asks.
    const filtered = await api("GET", "/api/v1/portfolios?status=open&limit=500", { token: T.investor });
    expect(filtered.body.items.map((p: any) => p.id).sort()).toEqual(notMine.map((p: any) => p.id).sort());
    expect((await api("GET", `/api/v1/portfolios/${other}/loans`, { token: T.investor })).status).toBe(403);
    const loansOwn = await api("GET", `/api/v1/portfolios/${pid}/loans`, { token: T.investor });
    expect(loansOwn.body.items.map((l: any) => l.loan_id).sort()).toEqual([ids[0], ids[1]].sort());
    expect(loansOwn.body.items[0]).toMatchObject({ investor_id: "inv-1", state: { principal_balance: expect.any(String) } });
    expect((await api("POST", `/api/v1/portfolios/${other}/close`, { token: T.investor })).status).toBe(403);
    const mine = await api("GET", "/api/v1/investors/inv-1/assignments", { token: T.investor });
    expect(mine.status).toBe(200);
    expect((await api("GET", "/api/v1/investors/inv-2/assignments", { token: T.investor })).status).toBe(404);
  });

  it("records a manual assignment once (POST twice = one record) and refuses changed terms with 409", async () => {
    const body = { loan_id: ids[2], assignment_date: "2026-03-05", purchase_price: "10.00" };
    const first = await api("POST", "/api/v1/investors/inv-2/assignments", { token: T.admin, body });
    expect(first.status).toBe(201);
    expect((await api("POST", "/api/v1/investors/inv-2/assignments", { token: T.admin, body })).status).toBe(200);
    expect((await api("POST", "/api/v1/investors/inv-2/assignments", { token: T.admin, body: { ...body, purchase_price: "11.00" } })).status).toBe(409);
    expect((await api("GET", "/api/v1/investors/inv-2/assignments", { token: T.analyst })).body.items.filter((a: any) => a.source === "manual")).toHaveLength(1);
    expect((await api("POST", "/api/v1/investors/inv-2/assignments", { token: T.admin, body: { loan_id: "x y", assignment_date: "2026-13-01", purchase_price: "-1" } })).body.error.data.fields.map((f: any) => f.field).sort()).toEqual(["assignment_date", "loan_id", "purchase_price"]);
    expect((await api("POST", "/api/v1/investors/nobody/assignments", { token: T.admin, body })).status).toBe(404);
  });
});
