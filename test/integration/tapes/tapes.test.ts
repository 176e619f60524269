/**
 * Loan tapes through the gateway over real NATS (issue 12): configs validated in one 400, a run
 * reconciled with the portfolio's snapshot, XLSX and CSV files stored with their SHA-256 and
 * downloaded, emailed to a real SMTP server on loopback (parsed, attachment hashed), a refused
 * SMTP server failing the run retryably, the scheduler's `tapes` tick, and who may download.
 *
 * The snapshots service is the real one: its projection is fed by the loans' and portfolios'
 * durable events, so the setup waits until it holds the test's loans and memberships before the
 * first run takes the (immutable) snapshot.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import { createServer, type AddressInfo } from "node:net";
import path from "node:path";
import type { ServiceBroker, ServiceSchema } from "moleculer";
import { SMTPServer } from "smtp-server";
import { simpleParser } from "mailparser";
import ExcelJS from "exceljs";
import Decimal from "decimal.js";
import { startNats, type RunningNats } from "../../support/nats";
import { startTestMongo, uniqueDbUrl } from "../../support/mongo";
import type { RunningMongo } from "../../../shared/runtime/mongo-server";
import { apiClient, eventually, gatewayUrl, startNode, TEST_TOKENS as T, waitForRoutes } from "../../support/system";
import { makeProduct, ok, openLoan, pay } from "../../support/loans";
import { MongoClient } from "mongodb";
import { MongoMixin } from "../../../shared/db/mongo.mixin";
import { DurableEventsMixin } from "../../../shared/events/durable-events.mixin";
import { SchedulerEvents, type JobFinishedEvent, type TickEvent } from "../../../shared/contracts/scheduler";
import type { DeliveredEvent } from "../../../shared/events/bus";
import { SERVICE_SCHEMAS } from "../../../services";

let nats: RunningNats;
let mongo: RunningMongo;
let core: ServiceBroker;
let tapesNode: ServiceBroker;
let gw: ServiceBroker;
let api: ReturnType<typeof apiClient>;
let smtp: SMTPServer;
let dropDir: string;
let smtpPort: number;
let mongoClient: MongoClient;
const mails: { to: string[]; raw: Buffer }[] = [];
const refuse = new Set<string>();
const reports: JobFinishedEvent[] = [];

/** Publishes ticks as the scheduler does and collects the tapes job's reports. */
const tickProbe: ServiceSchema = {
  name: "tick-probe",
  mixins: [MongoMixin({}), DurableEventsMixin({ subscriptions: { [SchedulerEvents.jobFinished]: "onFinished" } })],
  actions: {
    tick: {
      params: { business_date: "string" },
      async handler(this: any, ctx: any) {
        const tick: TickEvent = { tick_id: `tapes:${ctx.params.business_date}`, job: "tapes", business_date: ctx.params.business_date, emitted_at: new Date().toISOString(), trigger: "admin", attempt: 1 };
        await this.publishDurable(SchedulerEvents.tick("tapes"), `${tick.tick_id}:1`, tick);
      },
    },
  },
  methods: {
    onFinished(e: DeliveredEvent) {
      reports.push(e.payload as JobFinishedEvent);
    },
  },
};

/** The service's settings choose the transport: restart it with others. */
async function restartTapes(settings: Record<string, unknown>) {
  await tapesNode.destroyService(tapesNode.getLocalService("tapes")!);
  tapesNode.createService({ mixins: [SERVICE_SCHEMAS.tapes], settings } as any);
  await tapesNode.waitForServices(["tapes"], 10_000);
  await eventually(async () => (await api("GET", "/api/v1/tape-fields", { token: T.analyst })).status === 200, 10_000);
}

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

async function download(runId: string, token: string) {
  const res = await fetch(`${gatewayUrl(gw)}/api/v1/tapes/${runId}/download`, { headers: { Authorization: `Bearer ${token}` } });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

let portfolio: any;
let loans: any[];

beforeAll(async () => {
  [nats, mongo] = await Promise.all([startNats({ jetstream: true }), startTestMongo()]);
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onRcptTo(address, _session, cb) {
      if (refuse.has(address.address)) return cb(Object.assign(new Error("mailbox unavailable"), { responseCode: 550 }));
      cb();
    },
    onData(stream, session, cb) {
      const parts: Buffer[] = [];
      stream.on("data", (c: Buffer) => parts.push(c));
      stream.on("end", () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(parts) });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", resolve));
  smtpPort = (smtp.server.address() as any).port;
  dropDir = await mkdtemp(path.join(os.tmpdir(), "tapes-drop-"));

  const mongoUrl = uniqueDbUrl(mongo.url, "tapes_it");
  core = await startNode({ nodeID: "tapes-core", services: ["programs", "rates", "loans", "portfolios", "investors", "snapshots"], mongoUrl, natsUrl: nats.url });
  tapesNode = await startNode({
    nodeID: "tapes-node", services: ["tapes"], mongoUrl, natsUrl: nats.url,
    settings: { tapes: { smtpUrl: `smtp://127.0.0.1:${smtpPort}`, mailDropDir: dropDir } },
    extraServices: [tickProbe],
  });
  gw = await startNode({ nodeID: "tapes-gw", services: ["gateway"], mongoUrl, natsUrl: nats.url });
  await gw.waitForServices(["loans", "portfolios", "tapes"], 20_000);
  await waitForRoutes(gw, ["POST /api/v1/tape-configs", "GET /api/v1/tapes/:run_id/download", "POST /api/v1/portfolios/:id/sell"]);
  api = apiClient(gatewayUrl(gw));

  // The loans service walks the calendar of the book, so the loans' positions are dated before the
  // snapshots the tapes ask for (the snapshots service refuses one for a date before its positions).
  const loansSvc: any = core.getLocalService("loans");
  const { product_id } = await makeProduct(api);
  loansSvc.settings.businessDate = "2026-01-01";
  const first = await openLoan(api, { product_id, principal: "10000.00", term_months: 12, annual_rate: "0.12", first_payment_date: "2026-02-01", borrower: { name: "A, \"quoted\"", region: "US-NY", credit_score: 701 } }, "2026-01-01");
  loansSvc.settings.businessDate = "2026-02-01";
  await pay(api, first.id, "888.49", "2026-02-01");
  loansSvc.settings.businessDate = "2026-02-15";
  loans = [first, await openLoan(api, { product_id, principal: "25000.50", term_months: 24, annual_rate: "0.09", first_payment_date: "2026-03-15" }, "2026-02-15")];
  portfolio = await ok(api("POST", "/api/v1/portfolios", { token: T.servicer, body: { name: `Tape book ${Date.now()}`, public_name: "Pool T" } }), 201);
  for (const loan of loans) {
    await eventually(async () => (await api("POST", `/api/v1/portfolios/${portfolio.id}/loans`, { token: T.servicer, body: { loan_id: loan.id, effective_date: "2026-03-01" } })).status === 201, 20_000);
  }
  // the membership view carries the payment once the portfolios projection has the loan's event
  await eventually(async () => {
    const page = await ok(api("GET", `/api/v1/portfolios/${portfolio.id}/loans?as_of=2026-03-31`, { token: T.analyst }));
    return page.total === 2 && page.items.some((l: any) => l.state?.total_collected === "888.49");
  }, 20_000);
  // and so does the snapshots projection (a snapshot, once taken, never changes)
  await eventually(async () => {
    const { loans: members } = await core.call<any, any>("snapshots.members", { portfolio_id: portfolio.id, business_date: "2026-03-31" });
    return members.length === 2 && members.some((l: any) => l.cash_flows.some((f: any) => f.amount === "888.49"));
  }, 20_000);
  mongoClient = new MongoClient(mongoUrl);
  await mongoClient.connect();
}, 120_000);

afterAll(async () => {
  await mongoClient?.close();
  await gw?.stop();
  await tapesNode?.stop();
  await core?.stop();
  await new Promise<void>((r) => (smtp ? smtp.close(() => r()) : r()));
  await nats?.stop();
  await mongo?.stop();
  if (dropDir) await rm(dropDir, { recursive: true, force: true });
});

const configBody = (over: Record<string, unknown> = {}) => ({
  name: "Investor monthly tape",
  portfolio_id: portfolio.id,
  tape_format: "xlsx",
  tape_schedule: "monthly:last",
  required_fields: ["loan_id", "origination_date", "current_principal_balance", "current_interest_rate", "days_past_due", "status", "borrower_region", "payment_history"],
  recipient_email: ["ops@fund.example", "risk@fund.example"],
  ...over,
});

it("one 400 names the unknown field codes, the bad address and the bad schedule, and writes nothing", async () => {
  const res = await api("POST", "/api/v1/tape-configs", {
    token: T.analyst,
    body: configBody({ required_fields: ["loan_id", "shoe_size", "balance_ish"], recipient_email: ["ops@fund.example", "not-an-address"], tape_schedule: "monthly:31", layout: "esma_annex_vi" }),
  });
  expect(res.status).toBe(400);
  const fields = res.body.error.data.fields.map((f: any) => f.field).sort();
  expect(fields).toEqual(expect.arrayContaining(["required_fields[1]", "required_fields[2]", "recipient_email[1]", "tape_schedule"]));
  const unknownPortfolio = await api("POST", "/api/v1/tape-configs", { token: T.analyst, body: configBody({ portfolio_id: "0123456789abcdef01234567" }) });
  expect(unknownPortfolio.status).toBe(400);
  expect(unknownPortfolio.body.error.data.fields[0].field).toBe("portfolio_id");
  expect((await api("POST", "/api/v1/tape-configs", { token: T.servicer, body: configBody() })).status).toBe(403);
  expect((await ok(api("GET", "/api/v1/tape-configs", { token: T.analyst }))).total).toBe(0);
});

it("an XLSX tape reconciles with the snapshot, is stored with its SHA-256, emailed over SMTP and downloaded byte for byte", async () => {
  const config = await ok(api("POST", "/api/v1/tape-configs", { token: T.analyst, body: configBody() }), 201);
  expect(config).toMatchObject({ tape_format: "xlsx", tape_schedule: "monthly:last", version: 1 });

  const run = await ok(api("POST", `/api/v1/tape-configs/${config.id}/run`, { token: T.analyst, body: { business_date: "2026-03-31" } }));
  expect(run).toMatchObject({ status: "completed", row_count: 2, business_date: "2026-03-31" });
  expect(run.reconciliation).toMatchObject({ ok: true, tape_loan_count: 2, snapshot_loan_count: 2 });
  expect(run.totals.total_balance).toBe(run.reconciliation.snapshot_total_balance);
  expect(run.file.sha256).toMatch(/^[0-9a-f]{64}$/);
  expect(run.email).toMatchObject({ transport: "smtp", recipients: ["ops@fund.example", "risk@fund.example"] });

  // the same date again answers the first run
  const again = await ok(api("POST", `/api/v1/tape-configs/${config.id}/run`, { token: T.analyst, body: { business_date: "2026-03-31" } }));
  expect(again.id).toBe(run.id);
  expect((await ok(api("GET", `/api/v1/tape-runs?config_id=${config.id}`, { token: T.analyst }))).total).toBe(1);

  // the mail as received by the server: its attachment is the run's file
  const mail = await eventually(() => mails.find((m) => m.to.includes("risk@fund.example")), 10_000);
  const parsed = await simpleParser(mail.raw);
  expect(parsed.attachments).toHaveLength(1);
  expect(parsed.attachments[0].filename).toBe("Investor_monthly_tape_2026-03-31.xlsx");
  expect(sha256(parsed.attachments[0].content)).toBe(run.file.sha256);

  const file = await download(run.id, T.analyst);
  expect(file.status).toBe(200);
  expect(file.headers.get("content-type")).toContain("spreadsheetml");
  expect(file.headers.get("content-disposition")).toContain("Investor_monthly_tape_2026-03-31.xlsx");
  expect(sha256(file.body)).toBe(run.file.sha256);

  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(file.body as any);
  const tape = wb.getWorksheet("Tape")!;
  expect(tape.getRow(1).values).toEqual([undefined, ...configBody().required_fields]);
  expect(tape.getRow(1).getCell(1).font?.bold).toBe(true);
  expect(tape.views[0]).toMatchObject({ state: "frozen", ySplit: 1 });
  expect(tape.rowCount).toBe(3);
  const first = [tape.getRow(2), tape.getRow(3)].find((r) => r.getCell(1).value === loans[0].id)!;
  expect(first.getCell(2).value).toEqual(new Date(Date.UTC(2026, 0, 1)));
  expect(typeof first.getCell(3).value).toBe("number");
  expect(first.getCell(3).numFmt).toBe("#,##0.00");
  expect(first.getCell(7).value).toBe("US-NY");
  expect(first.getCell(8).value).toBe("2026-02-01:888.49");
  const payments = wb.getWorksheet("Payments")!;
  expect(payments.rowCount).toBe(1 + 3); // two disbursements and one payment
  const summary = wb.getWorksheet("Summary")!;
  const items = new Map<string, unknown>();
  summary.eachRow((r) => items.set(String(r.getCell(1).value), r.getCell(2).value));
  expect(items.get("reconciled")).toBe("yes");
  expect(items.get("loan_count")).toBe(2);
});

it("a CSV tape in the ESMA Annex VI layout: RFC 4180, decimal strings, ND codes", async () => {
  const config = await ok(api("POST", "/api/v1/tape-configs", { token: T.admin, body: configBody({ name: "ESMA, quarterly", tape_format: "csv", tape_schedule: "on_demand", required_fields: undefined, layout: "esma_annex_vi", recipient_email: ["esma@fund.example"] }) }), 201);
  const run = await ok(api("POST", `/api/v1/tape-configs/${config.id}/run`, { token: T.analyst, body: { business_date: "2026-03-31" } }));
  expect(run.status).toBe("completed");
  const file = await download(run.id, T.admin);
  expect(file.headers.get("content-type")).toContain("text/csv");
  expect(sha256(file.body)).toBe(run.file.sha256);
  const lines = file.body.toString("utf8").split("\r\n").filter(Boolean);
  expect(lines).toHaveLength(3);
  const header = lines[0].split(",");
  expect(header.slice(0, 4)).toEqual(["CMRL1", "CMRL2", "CMRL3", "CMRL4"]);
  const row = lines.find((l) => l.includes(loans[0].id))!.split(",");
  const col = (code: string) => row[header.indexOf(code)];
  expect(col("CMRL4")).toBe("ND2");
  expect(col("CMRL27")).toBe("10000.00");
  expect(col("CMRL29")).toBe("ND5");
  expect(col("CMRL37")).toBe("12");
  expect(col("CMRL55")).toMatch(/^(PERF|ARRE)$/);
  expect(col("CMRL28")).toMatch(/^\d+\.\d{2}$/);
  expect(col("CMRL6")).toBe("2026-03-31");
});

it("cumulative prepayments are the principal paid beyond the principal due: curtailments, a payoff, a replay's new split, not a reversed payment", async () => {
  // Hand-computed. 30/360 at 12 %: a month's interest is exactly 1 % of the balance. 10,000.00
  // over 12 months from 2026-01-01: installment 10000 × 0.01 / (1 − 1.01^−12) = 888.4879 → 888.49;
  // February's is 10,000.00 × 1 % = 100.00 interest and 888.49 − 100.00 = 788.49 principal.
  // Today is the tape's date: the payments below are dated up to 03-01 and the snapshot is of 03-31
  // (the snapshots service refuses one for a date before its loans' positions).
  const loansSvc: any = core.getLocalService("loans");
  const before = loansSvc.settings.businessDate;
  loansSvc.settings.businessDate = "2026-03-31";
  try {
  const { product_id } = await makeProduct(api, { day_count_convention: "30_360" });
  const open = () => openLoan(api, { product_id, principal: "10000.00", term_months: 12, annual_rate: "0.12", first_payment_date: "2026-02-01" }, "2026-01-01");
  const [p, q, r] = [await open(), await open(), await open()];
  const book = await ok(api("POST", "/api/v1/portfolios", { token: T.servicer, body: { name: `Prepay book ${Date.now()}`, public_name: "Pool P" } }), 201);
  for (const loan of [p, q, r]) {
    await eventually(async () => (await api("POST", `/api/v1/portfolios/${book.id}/loans`, { token: T.servicer, body: { loan_id: loan.id, effective_date: "2026-01-02" } })).status === 201, 20_000);
  }

  // P, a curtailment on a due date: 1,388.49 on 02-01 = February's 888.49 + 500.00, and no
  // interest has accrued on the due date itself → 500.00 prepaid.
  expect((await pay(api, p.id, "1388.49", "2026-02-01")).allocation.prepaid_principal).toBe("500.00");
  // ... and 1,138.49 on 03-01 = March's 888.49 + 250.00 prepaid, then reversed: it counts for nothing.
  const reversedLater = await pay(api, p.id, "1138.49", "2026-03-01");
  expect(reversedLater.allocation.prepaid_principal).toBe("250.00");
  await ok(api("DELETE", `/api/v1/loans/${p.id}/transactions/${reversedLater.transaction.id}`, { token: T.servicer }));
  // P: 500.00. Principal repaid 788.49 + 500.00 = 1,288.49; balance 10,000.00 − 1,288.49 = 8,711.51.

  // Q, a replay's new split: February unpaid on its due date, 1,088.49 on 02-10 pays February's
  // 888.49 (past due) and the 200.00 left reduces principal (DESIGN.md §3: interest accrued since
  // 02-01 waits for March's bill) → 200.00 prepaid.
  expect((await pay(api, q.id, "1088.49", "2026-02-10")).allocation.prepaid_principal).toBe("200.00");
  // A payment of 888.49 dated 02-01 arrives late: booked there and replayed. February is paid on
  // its due date, so 02-10's money finds nothing due and all 1,088.49 prepays principal.
  const late = await ok(api("POST", `/api/v1/loans/${q.id}/payments`, { token: T.servicer, body: { amount: "888.49", date: "2026-02-01", idempotency_key: `late-${q.id}` } }), 201);
  expect(late.replay.changed.map((c: any) => [c.before.principal, c.after.principal])).toEqual([["988.49", "1088.49"]]);
  // Q: 1,088.49. Principal repaid 788.49 + 1,088.49 = 1,876.98; balance 8,123.02.

  // R, a payoff on a due date: 10,100.00 pays February's 888.49, then the 9,211.51 left (no
  // interest since the due date) → 9,211.51 prepaid, the loan paid off. Repaid 10,000.00.
  expect((await pay(api, r.id, "10100.00", "2026-02-01")).allocation).toMatchObject({ prepaid_principal: "9211.51", paid_off: true });

  // the snapshots projection has the reallocation and the reversal before the snapshot is taken
  await eventually(async () => {
    const { loans: members } = await core.call<any, any>("snapshots.members", { portfolio_id: book.id, business_date: "2026-03-31" });
    const flows = (id: string) => members.find((m: any) => m.loan_id === id)?.cash_flows ?? [];
    return members.length === 3 && flows(p.id).length === 2 && flows(q.id).some((f: any) => f.prepaid_principal === "1088.49") && flows(r.id).some((f: any) => f.prepaid_principal === "9211.51");
  }, 20_000);

  const plain = await ok(api("POST", "/api/v1/tape-configs", {
    token: T.analyst,
    body: configBody({ name: "Prepayments", portfolio_id: book.id, tape_format: "csv", tape_schedule: "on_demand", required_fields: ["loan_id", "cumulative_prepayments", "cumulative_principal_repaid", "current_principal_balance"], recipient_email: ["prepay@fund.example"] }),
  }), 201);
  const run = await ok(api("POST", `/api/v1/tape-configs/${plain.id}/run`, { token: T.analyst, body: { business_date: "2026-03-31" } }));
  expect(run).toMatchObject({ status: "completed", row_count: 3 });
  const rows = (await download(run.id, T.analyst)).body.toString("utf8").split("\r\n").filter(Boolean).slice(1).map((l) => l.split(","));
  const byLoan = new Map(rows.map(([id, ...rest]) => [id, rest]));
  expect(byLoan.get(p.id)).toEqual(["500.00", "1288.49", "8711.51"]);
  expect(byLoan.get(q.id)).toEqual(["1088.49", "1876.98", "8123.02"]);
  expect(byLoan.get(r.id)).toEqual(["9211.51", "10000.00", "0.00"]);

  // the standard columns it maps to: ESMA CMRL50, and Reg AB II's zero-balance code for the payoff
  const esma = await ok(api("POST", "/api/v1/tape-configs", {
    token: T.analyst,
    body: configBody({ name: "Prepayments ESMA", portfolio_id: book.id, tape_format: "csv", tape_schedule: "on_demand", required_fields: undefined, layout: "esma_annex_vi", recipient_email: ["prepay@fund.example"] }),
  }), 201);
  const esmaRun = await ok(api("POST", `/api/v1/tape-configs/${esma.id}/run`, { token: T.analyst, body: { business_date: "2026-03-31" } }));
  const esmaLines = (await download(esmaRun.id, T.analyst)).body.toString("utf8").split("\r\n").filter(Boolean).map((l) => l.split(","));
  const [esmaHeader, ...esmaRows] = esmaLines;
  const cmrl = (id: string, code: string) => esmaRows.find((row) => row[esmaHeader.indexOf("CMRL2")] === id)![esmaHeader.indexOf(code)];
  expect([p, q, r].map((l) => cmrl(l.id, "CMRL50"))).toEqual(["500.00", "1088.49", "9211.51"]);
  expect(cmrl(r.id, "CMRL55")).toBe("RDMD");
  const regab = await ok(api("POST", "/api/v1/tape-configs", {
    token: T.analyst,
    body: configBody({ name: "Prepayments Reg AB", portfolio_id: book.id, tape_format: "csv", tape_schedule: "on_demand", required_fields: undefined, layout: "reg_ab_ii", recipient_email: ["prepay@fund.example"] }),
  }), 201);
  const regabRun = await ok(api("POST", `/api/v1/tape-configs/${regab.id}/run`, { token: T.analyst, body: { business_date: "2026-03-31" } }));
  const [regabHeader, ...regabRows] = (await download(regabRun.id, T.analyst)).body.toString("utf8").split("\r\n").filter(Boolean).map((l) => l.split(","));
  const zeroBalance = (id: string) => regabRows.find((row) => row[0] === id)![regabHeader.indexOf("zeroBalanceCode")];
  expect([p, q, r].map((l) => zeroBalance(l.id))).toEqual(["", "", "1"]);

  // tapes read a snapshot's loans a page at a time: pages of at most 1 KB hold a row each, in the
  // order they are stored (the whole answer is sorted by loan id)
  const whole = await core.call<any, any>("snapshots.portfolioLoans", { portfolio_id: book.id, business_date: "2026-03-31" });
  const paged: any[] = [];
  for (let offset: number | null = 0; offset !== null; ) {
    const page: any = await core.call("snapshots.portfolioLoans", { portfolio_id: book.id, business_date: "2026-03-31", offset, max_bytes: 1024 });
    expect(page.loans).toHaveLength(1);
    paged.push(...page.loans);
    offset = page.next_offset;
  }
  const byId = (a: any, b: any) => (a.loan_id < b.loan_id ? -1 : 1);
  expect([...paged].sort(byId)).toEqual(whole.loans);
  expect(paged).toHaveLength(3);
  } finally {
    loansSvc.settings.businessDate = before;
  }
});

it("a tape that does not reconcile fails with both figures and sends nothing", async () => {
  const config = await ok(api("POST", "/api/v1/tape-configs", { token: T.analyst, body: configBody({ name: "Skewed", recipient_email: ["skew@fund.example"] }) }), 201);
  // a snapshot that disagrees with its loans: the stored one of a date of its own, its figures
  // corrupted in MongoDB (the other tests' 2026-03-31 snapshot stays true)
  const taken = await core.call<any, any>("snapshots.take", { portfolio_id: portfolio.id, business_date: "2026-04-15" });
  expect(taken).toMatchObject({ loan_count: 2 });
  const skewed = new Decimal(taken.total_balance).plus("100.00").toFixed(2);
  const updated = await mongoClient.db().collection("snapshots").updateOne({ _id: taken.id }, { $set: { loan_count: 3, total_balance: skewed } });
  expect(updated.modifiedCount).toBe(1);

  const run = await ok(api("POST", `/api/v1/tape-configs/${config.id}/run`, { token: T.analyst, body: { business_date: "2026-04-15" } }));
  expect(run).toMatchObject({ status: "failed", failed_stage: "reconcile", retryable: false });
  expect(run.error).toContain(`tape 2 loans, balance ${new Decimal(taken.total_balance).toFixed(2)}; snapshot 3 loans, balance ${skewed}`);
  expect(run.file ?? null).toBeNull();
  expect(mails.some((m) => m.to.includes("skew@fund.example"))).toBe(false);
  expect((await download(run.id, T.analyst)).status).toBe(409);
  expect((await api("POST", `/api/v1/tape-runs/${run.id}/retry`, { token: T.analyst })).status).toBe(409);
});

it("a refused SMTP recipient fails the run as retryable; the retry sends the stored file", async () => {
  const config = await ok(api("POST", "/api/v1/tape-configs", { token: T.analyst, body: configBody({ name: "Refused", tape_format: "csv", recipient_email: ["blocked@fund.example"] }) }), 201);
  refuse.add("blocked@fund.example");
  const run = await ok(api("POST", `/api/v1/tape-configs/${config.id}/run`, { token: T.analyst, body: { business_date: "2026-03-31" } }));
  expect(run).toMatchObject({ status: "failed", failed_stage: "email", retryable: true });
  expect(run.file.sha256).toMatch(/^[0-9a-f]{64}$/);
  refuse.delete("blocked@fund.example");
  const retried = await ok(api("POST", `/api/v1/tape-runs/${run.id}/retry`, { token: T.analyst }));
  expect(retried).toMatchObject({ status: "completed", attempts: 2 });
  expect(retried.file.sha256).toBe(run.file.sha256);
  const mail = await eventually(() => mails.find((m) => m.to.includes("blocked@fund.example")), 10_000);
  expect(sha256((await simpleParser(mail.raw)).attachments[0].content)).toBe(run.file.sha256);
});

it("the tapes tick runs the configs due on D once, reports job.finished, and lists the runs", async () => {
  const daily = await ok(api("POST", "/api/v1/tape-configs", { token: T.analyst, body: configBody({ name: "Daily", tape_format: "csv", tape_schedule: "daily", recipient_email: ["daily@fund.example"] }) }), 201);
  await tapesNode.call("tick-probe.tick", { business_date: "2026-04-30" });
  const report = await eventually(() => reports.find((r) => r.business_date === "2026-04-30"), 30_000);
  // due on 2026-04-30: the daily config and the monthly:last ones (the first XLSX, Skewed, Refused)
  expect(report).toMatchObject({ job: "tapes", status: "completed" });
  expect(report.counts).toMatchObject({ configs_due: 4, completed: 4, failed: 0 });
  const runs = await ok(api("GET", `/api/v1/tape-runs?config_id=${daily.id}`, { token: T.analyst }));
  expect(runs.items.map((r: any) => [r.business_date, r.status])).toEqual([["2026-04-30", "completed"]]);
  // reconciled with the real snapshot of 2026-04-30, taken by the run: both loans still members
  expect(runs.items[0].reconciliation).toMatchObject({ ok: true, tape_loan_count: 2, snapshot_loan_count: 2 });
  // the same tick again (a redelivery, a backfill) finds every run done
  await tapesNode.call("tapes.runDue", { business_date: "2026-04-30" });
  expect((await ok(api("GET", `/api/v1/tape-runs?config_id=${daily.id}`, { token: T.analyst }))).total).toBe(1);
  expect(mails.filter((m) => m.to.includes("daily@fund.example"))).toHaveLength(1);
});

it("PATCH needs the version it read; a layout replaces the field list; bad values are one 400", async () => {
  const config = await ok(api("POST", "/api/v1/tape-configs", { token: T.analyst, body: configBody({ name: "Patched", tape_schedule: "on_demand" }) }), 201);
  expect((await api("PATCH", `/api/v1/tape-configs/${config.id}`, { token: T.analyst, body: { tape_schedule: "weekly:fri" } })).status).toBe(428);
  const bad = await api("PATCH", `/api/v1/tape-configs/${config.id}`, { token: T.analyst, body: { version: 1, tape_schedule: "weekly:fry", recipient_email: ["x@"], portfolio_id: portfolio.id } });
  expect(bad.status).toBe(400);
  expect(bad.body.error.data.fields.map((f: any) => f.field).sort()).toEqual(["portfolio_id", "recipient_email[0]", "tape_schedule"]);
  const patched = await ok(api("PATCH", `/api/v1/tape-configs/${config.id}`, { token: T.analyst, body: { version: 1, tape_schedule: "weekly:fri", layout: "reg_ab_ii" } }));
  expect(patched).toMatchObject({ version: 2, tape_schedule: "weekly:fri", layout: "reg_ab_ii" });
  expect(patched.required_fields ?? null).toBeNull();
  expect((await api("PATCH", `/api/v1/tape-configs/${config.id}`, { token: T.analyst, body: { version: 1, name: "late" } })).status).toBe(409);
  expect((await ok(api("GET", `/api/v1/tape-configs/${config.id}`, { token: T.analyst }))).name).toBe("Patched");
});

it("an investor downloads the tapes of a portfolio it bought, and nothing else", async () => {
  const runs = await ok(api("GET", "/api/v1/tape-runs?limit=100", { token: T.analyst }));
  const done = runs.items.find((r: any) => r.status === "completed");
  expect((await download(done.id, T.investor)).status).toBe(404);
  expect((await download(done.id, T.servicer)).status).toBe(403);
  expect((await api("GET", "/api/v1/tape-runs", { token: T.investor })).status).toBe(403);
  expect((await api("GET", "/api/v1/tape-configs", { token: T.investor })).status).toBe(403);

  await ok(api("POST", "/api/v1/investors", { token: T.admin, body: { id: "inv-1", name: "Fund One", investor_type: "fund" } }), 201);
  await ok(api("POST", `/api/v1/portfolios/${portfolio.id}/sell`, { token: T.servicer, body: { investor_id: "inv-1", sale_date: "2026-05-01", price: "30000.00" } }));
  const file = await download(done.id, T.investor);
  expect(file.status).toBe(200);
  expect(sha256(file.body)).toBe(done.file.sha256);
});

it("without SMTP_URL the mail lands in the mail drop as an .eml, its path in the run", async () => {
  const config = await ok(api("POST", "/api/v1/tape-configs", { token: T.analyst, body: configBody({ name: "Dropped", tape_format: "csv", recipient_email: ["drop@fund.example"] }) }), 201);
  // the service's own settings choose the transport: restart it with the mail drop
  await restartTapes({ smtpUrl: "", mailDropDir: dropDir });
  const run = await ok(api("POST", `/api/v1/tape-configs/${config.id}/run`, { token: T.analyst, body: { business_date: "2026-03-31" } }));
  expect(run.email.transport).toBe("mail_drop");
  expect(run.email.path).toBe(path.join(dropDir, `tape-${run.id}.eml`));
  expect(await readdir(dropDir)).toContain(`tape-${run.id}.eml`);
  const parsed = await simpleParser(await readFile(run.email.path));
  expect(sha256(parsed.attachments[0].content)).toBe(run.file.sha256);
});

it("an unreachable SMTP server fails the run as retryable; the next day's tick sends it", async () => {
  const closed = await new Promise<number>((resolve) => {
    const probe = createServer();
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
  await restartTapes({ smtpUrl: `smtp://127.0.0.1:${closed}`, mailDropDir: dropDir });
  const config = await ok(api("POST", "/api/v1/tape-configs", { token: T.analyst, body: configBody({ name: "Unreachable", tape_format: "csv", tape_schedule: "on_demand", recipient_email: ["later@fund.example"] }) }), 201);
  const run = await ok(api("POST", `/api/v1/tape-configs/${config.id}/run`, { token: T.analyst, body: { business_date: "2026-03-31" } }));
  expect(run).toMatchObject({ status: "failed", failed_stage: "email", retryable: true });
  expect(run.error).toMatch(/ECONNREFUSED|connect/i);

  await restartTapes({ smtpUrl: `smtp://127.0.0.1:${smtpPort}`, mailDropDir: dropDir });
  await tapesNode.call("tick-probe.tick", { business_date: "2026-05-01" });
  const report = await eventually(() => reports.find((r) => r.business_date === "2026-05-01"), 30_000);
  expect(report.counts!.retried).toBeGreaterThanOrEqual(1);
  const after = await ok(api("GET", `/api/v1/tape-runs/${run.id}`, { token: T.analyst }));
  expect(after).toMatchObject({ status: "completed", attempts: 2 });
  const mail = await eventually(() => mails.find((m) => m.to.includes("later@fund.example")), 10_000);
  expect(sha256((await simpleParser(mail.raw)).attachments[0].content)).toBe(run.file.sha256);
});
