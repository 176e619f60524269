/**
 * Issue 13 point 2, over the real services: the REPL's `snapshot`, `tape` and `portfolio` commands,
 * typed on the stdin of `bin/repl.ts` running as a real process joined to the cluster over NATS,
 * against the real portfolios, snapshots and tapes services, with a real book (programs, rates and
 * loans) behind them. (test/integration/repl-commands.test.ts runs the scheduler's commands; its
 * cluster runs stand-ins for the jobs' services, so these commands have a cluster of their own.)
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { ServiceBroker } from "moleculer";
import { startRepl, type ReplProcess } from "../support/repl-process";
import { startNats, type RunningNats } from "../support/nats";
import { startTestMongo, uniqueDbUrl } from "../support/mongo";
import type { RunningMongo } from "../../shared/runtime/mongo-server";
import { apiClient, eventually, gatewayUrl, startNode, TEST_TOKENS as T, waitForRoutes } from "../support/system";
import { makeProduct, ok, openLoan, pay } from "../support/loans";
import { businessToday } from "../../shared/runtime/business-date";
import { readConfig } from "../../shared/config";

let nats: RunningNats;
let mongo: RunningMongo;
let node: ServiceBroker;
let repl: ReplProcess;
let dropDir: string;
let portfolio: any;
let config: any;
const today = businessToday(readConfig().businessTz);

beforeAll(async () => {
  [nats, mongo] = await Promise.all([startNats({ jetstream: true }), startTestMongo()]);
  dropDir = await mkdtemp(path.join(os.tmpdir(), "repl-tapes-"));
  node = await startNode({
    nodeID: "repl-data",
    services: ["gateway", "programs", "rates", "loans", "portfolios", "snapshots", "tapes"],
    mongoUrl: uniqueDbUrl(mongo.url, "repl_data"),
    natsUrl: nats.url,
    settings: { tapes: { smtpUrl: "", mailDropDir: dropDir } },
  });
  await waitForRoutes(node, ["POST /api/v1/loans", "POST /api/v1/portfolios", "POST /api/v1/tape-configs"]);
  const api = apiClient(gatewayUrl(node));

  const { product_id } = await makeProduct(api);
  const loans = [
    await openLoan(api, { product_id, principal: "10000.00", term_months: 12, annual_rate: "0.12", first_payment_date: "2026-02-01" }, "2026-01-01"),
    await openLoan(api, { product_id, principal: "25000.50", term_months: 24, annual_rate: "0.09", first_payment_date: "2026-03-15" }, "2026-02-15"),
  ];
  await pay(api, loans[0].id, "888.49", "2026-02-01");
  portfolio = await ok(api("POST", "/api/v1/portfolios", { token: T.servicer, body: { name: "Q1 Consumer", user_code: "LP-Q1" } }), 201);
  for (const loan of loans) {
    await eventually(async () => (await api("POST", `/api/v1/portfolios/${portfolio.id}/loans`, { token: T.servicer, body: { loan_id: loan.id, effective_date: "2026-03-01" } })).status === 201, 20_000);
  }
  // the command takes today's snapshot, immutable once taken: wait until the projection holds the book
  await eventually(async () => {
    const { loans: members } = await node.call<any, any>("snapshots.members", { portfolio_id: portfolio.id, business_date: today });
    return members.length === 2 && members.some((l: any) => l.cash_flows.some((f: any) => f.amount === "888.49"));
  }, 20_000);
  config = await ok(api("POST", "/api/v1/tape-configs", {
    token: T.analyst,
    body: { name: "REPL tape", portfolio_id: portfolio.id, tape_format: "csv", tape_schedule: "on_demand", required_fields: ["loan_id", "current_principal_balance"], recipient_email: ["ops@fund.example"] },
  }), 201);

  repl = await startRepl(nats.url);
}, 120_000);

afterAll(async () => {
  await repl?.stop();
  await node?.stop();
  await nats?.stop();
  await mongo?.stop();
  if (dropDir) await rm(dropDir, { recursive: true, force: true });
});

const type = (command: string, until: RegExp, timeoutMs?: number) => repl.type(command, until, timeoutMs);

const field = (text: string, key: string) => new RegExp(`^  ${key}: (.*)$`, "m").exec(text)?.[1];

it("takes a portfolio's snapshot, runs a tape that reconciles with it, and summarises the portfolio", async () => {
  const snap = await type(`snapshot ${portfolio.id}`, /taken_at|cannot/);
  expect(snap).toContain(`snapshot of ${portfolio.id}:`);
  expect(field(snap, "business_date")).toBe(today);
  expect(field(snap, "loan_count")).toBe("2");
  const stored = await node.call<any, any>("snapshots.get", { portfolio_id: portfolio.id, business_date: today });
  expect(field(snap, "total_balance")).toBe(stored.total_balance);
  expect(stored.total_balance).toMatch(/^\d+\.\d{2}$/);

  const tape = await type(`tape ${config.id}`, /row_count|cannot/);
  expect(tape).toContain(`tape ${config.id}: running…`);
  expect(tape).toMatch(new RegExp(`tape ${config.id}: completed in [\\d.]+ s`));
  expect(field(tape, "row_count")).toBe("2");
  expect(field(tape, "business_date")).toBe(today);
  const reconciliation = JSON.parse(field(tape, "reconciliation")!);
  expect(reconciliation).toMatchObject({ ok: true, tape_loan_count: 2, snapshot_loan_count: 2, snapshot_total_balance: stored.total_balance });

  const summary = await type(`portfolio ${portfolio.id}`, /latest snapshot[\s\S]*taken_at|cannot/);
  expect(summary).toContain(`Q1 Consumer (open, ${portfolio.user_code})`);
  expect(portfolio.user_code).toContain("LP-Q1");
  expect(summary).toContain("  first_transaction_date: 2026-01-01"); // the first loan's, through the portfolios projection
  expect(summary).toContain(`latest snapshot (${today}):`);
  expect(field(summary.slice(summary.indexOf("latest snapshot")), "total_balance")).toBe(stored.total_balance);
}, 60_000);

it("relays the services' refusals", async () => {
  expect(await type("portfolio 0123456789abcdef01234567", /cannot|not found/i)).toMatch(/not found/i);
  expect(await type("tape 0123456789abcdef01234567", /cannot|not found/i)).toMatch(/not found/i);
});
