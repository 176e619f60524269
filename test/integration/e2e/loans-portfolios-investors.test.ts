/**
 * Loans, portfolios and investors together, as a client sees them through the gateway: the loans'
 * durable events feed the portfolios' projection (first dates from the ledger), membership and sale
 * events come back to the loans (`/loans?portfolio_id=`, `investor_id`), and an investor token sees
 * exactly the loans it bought (issue 8 point 9, issue 10 points 6–8).
 */
import type { ServiceBroker } from "moleculer";
import { startNats, type RunningNats } from "../../support/nats";
import { startTestMongo, uniqueDbUrl } from "../../support/mongo";
import type { RunningMongo } from "../../../shared/runtime/mongo-server";
import { apiClient, eventually, gatewayUrl, startNode, TEST_TOKENS as T, waitForRoutes } from "../../support/system";
import { makeProduct, ok, openLoan, pay } from "../../support/loans";

let nats: RunningNats;
let mongo: RunningMongo;
let gw: ServiceBroker;
let core: ServiceBroker;
let books: ServiceBroker;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  [nats, mongo] = await Promise.all([startNats({ jetstream: true }), startTestMongo()]);
  const mongoUrl = uniqueDbUrl(mongo.url, "e2e_lpi");
  core = await startNode({ nodeID: "e2e-core", services: ["programs", "rates", "loans"], mongoUrl, natsUrl: nats.url });
  books = await startNode({ nodeID: "e2e-books", services: ["portfolios", "investors"], mongoUrl, natsUrl: nats.url });
  gw = await startNode({ nodeID: "e2e-gw", services: ["gateway"], mongoUrl, natsUrl: nats.url });
  await gw.waitForServices(["programs", "rates", "loans", "portfolios", "investors"], 20_000);
  await waitForRoutes(gw, ["POST /api/v1/loans", "POST /api/v1/portfolios", "POST /api/v1/investors", "POST /api/v1/portfolios/:id/sell"]);
  api = apiClient(gatewayUrl(gw));
}, 90_000);

afterAll(async () => {
  await gw?.stop();
  await books?.stop();
  await core?.stop();
  await nats?.stop();
  await mongo?.stop();
});

it("a loan book is put in a portfolio, sold to an investor, and seen by that investor only", async () => {
  const { product_id } = await makeProduct(api);
  const a = await openLoan(api, { product_id, principal: "10000.00", term_months: 12, annual_rate: "0.12", first_payment_date: "2026-02-01" }, "2026-01-01");
  const b = await openLoan(api, { product_id, principal: "30000.00", term_months: 24, annual_rate: "0.09", first_payment_date: "2026-03-15" }, "2026-02-15");
  const other = await openLoan(api, { product_id, principal: "5000.00", term_months: 12, annual_rate: "0.10" }, "2026-03-01");
  const pa = await pay(api, a.id, "888.49", "2026-02-01");

  const portfolio = await ok(api("POST", "/api/v1/portfolios", { token: T.servicer, body: { name: `E2E book ${Date.now()}`, public_name: "Consumer pool A" } }), 201);
  // the portfolios service knows a loan from the loans' events: wait for its projection
  for (const loan of [a, b]) {
    await eventually(async () => (await api("POST", `/api/v1/portfolios/${portfolio.id}/loans`, { token: T.servicer, body: { loan_id: loan.id, effective_date: "2026-03-20" } })).status === 201, 20_000);
  }
  // the loans service learns the membership from portfolio.loan.added
  await eventually(async () => (await ok(api("GET", `/api/v1/loans?portfolio_id=${portfolio.id}`, { token: T.analyst }))).total === 2, 20_000);

  // seed 004 first dates from the members' ledgers: disbursement 2026-01-01 is both the first trade and first cash flow
  await eventually(async () => {
    const p = await ok(api("GET", `/api/v1/portfolios/${portfolio.id}`, { token: T.analyst }));
    return p.first_transaction_date === "2026-01-01" && p.first_cash_flow_date === "2026-01-01";
  }, 20_000);
  // rebooking loan a's payment before its disbursement is impossible; rebooking it later keeps the first dates
  await ok(api("POST", `/api/v1/loans/${a.id}/transactions/${pa.transaction.id}/rebook`, { token: T.servicer, body: { trade_date: "2026-02-03" } }));

  const investor = await ok(api("POST", "/api/v1/investors", { token: T.admin, body: { id: "inv-1", name: "Fund One", investor_type: "fund", contact: { email: "ops@fund.example" } } }), 201);
  expect(investor.id).toBe("inv-1");
  // before the sale: the investor sees the portfolio only by its public name, and no loan
  const before = await api("GET", `/api/v1/portfolios/${portfolio.id}`, { token: T.investor });
  expect(before.body).toEqual({ id: portfolio.id, public_name: "Consumer pool A" });
  expect((await api("GET", `/api/v1/loans/${a.id}`, { token: T.investor })).status).toBe(404);

  const sold = await ok(api("POST", `/api/v1/portfolios/${portfolio.id}/sell`, { token: T.servicer, body: { investor_id: "inv-1", sale_date: "2026-03-31", price: "38500.00" } }));
  expect(sold.status).toBe("sold");
  await eventually(async () => (await api("GET", `/api/v1/loans/${b.id}`, { token: T.investor })).status === 200, 20_000);
  const seen = await ok(api("GET", "/api/v1/loans", { token: T.investor }));
  expect(seen.items.map((l: any) => l.id).sort()).toEqual([a.id, b.id].sort());
  expect(seen.items.every((l: any) => l.investor_id === "inv-1" && l.portfolio_id === portfolio.id)).toBe(true);
  expect((await api("GET", `/api/v1/loans/${other.id}`, { token: T.investor })).status).toBe(404);
  expect((await api("GET", `/api/v1/loans/${a.id}/transactions`, { token: T.investor })).status).toBe(200);
  const assignments = await ok(api("GET", "/api/v1/investors/inv-1/assignments", { token: T.admin }));
  const prices = assignments.items.map((x: any) => Number(x.purchase_price));
  expect(prices.reduce((s: number, p: number) => s + Math.round(p * 100), 0)).toBe(3850000);
}, 120_000);
