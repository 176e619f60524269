/**
 * Issue 13 point 3: the dashboard in headless Chromium (Debian's package), over the real services:
 * the portfolio list from the portfolios service, the snapshots route
 * (GET /api/v1/portfolios/:id/snapshots, with the `from`/`to`/`limit` the page sends) from the
 * snapshots service, over a real book — loans booked and paid through the loans service, put in a
 * portfolio, and its snapshots taken through POST /api/v1/portfolios/:id/snapshots for three
 * dates. The test signs in with a token, waits for the charts, checks they hold the snapshots'
 * figures and saves a screenshot (tmp/dashboard.png).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { ServiceBroker } from "moleculer";
import { apiClient, eventually, gatewayUrl, startNode, TEST_TOKENS, waitForRoutes } from "../support/system";
import { startTestMongo, uniqueDbUrl } from "../support/mongo";
import { startNats, type RunningNats } from "../support/nats";
import type { RunningMongo } from "../../shared/runtime/mongo-server";
import { openPage, type Page } from "../support/chromium";
import { makeProduct, ok, openLoan, pay } from "../support/loans";

const T = TEST_TOKENS;
const DATES = ["2026-02-15", "2026-03-15", "2026-04-15"];
const BUCKETS = ["current", "1_29", "30_59", "60_89", "90_119", "120_plus"];

let nats: RunningNats;
let mongo: RunningMongo;
let node: ServiceBroker;
let page: Page;
let q1 = "";
const snapshots: any[] = [];

beforeAll(async () => {
  [nats, mongo] = await Promise.all([startNats({ jetstream: true }), startTestMongo()]);
  node = await startNode({
    nodeID: "dash-browser",
    services: ["gateway", "programs", "rates", "loans", "portfolios", "snapshots"],
    mongoUrl: uniqueDbUrl(mongo.url, "dashboard"),
    natsUrl: nats.url,
  });
  await waitForRoutes(node, ["GET /api/v1/portfolios", "POST /api/v1/portfolios", "POST /api/v1/loans", "GET /api/v1/portfolios/:id/snapshots", "POST /api/v1/portfolios/:id/snapshots"]);
  const api = apiClient(gatewayUrl(node));

  const created = await api("POST", "/api/v1/portfolios", { token: T.admin, body: { name: "Q1 Consumer", user_code: "LP-Q1" } });
  expect(created.status).toBe(201);
  q1 = created.body.id;
  const leases = await api("POST", "/api/v1/portfolios", { token: T.admin, body: { name: "Leases 2026" } });
  expect(leases.status).toBe(201);
  expect((await api("POST", `/api/v1/portfolios/${leases.body.id}/close`, { token: T.admin })).status).toBe(200);

  // a real book: two loans, one paying monthly, in Q1 Consumer from the end of January. The loans
  // service walks the calendar and each snapshot is taken on its date: the snapshots service keeps
  // only the newest positions, and refuses a snapshot for a date before them.
  const loansSvc: any = node.getLocalService("loans");
  const at = (d: string) => (loansSvc.settings.businessDate = d);
  const { product_id } = await makeProduct(api);
  at("2026-01-01");
  const first = await openLoan(api, { product_id, principal: "10000.00", term_months: 12, annual_rate: "0.12", first_payment_date: "2026-02-01" }, "2026-01-01");
  at("2026-01-15");
  const loans = [first, await openLoan(api, { product_id, principal: "25000.50", term_months: 24, annual_rate: "0.09", first_payment_date: "2026-02-15" }, "2026-01-15")];
  for (const loan of loans) {
    await eventually(async () => (await api("POST", `/api/v1/portfolios/${q1}/loans`, { token: T.servicer, body: { loan_id: loan.id, effective_date: "2026-01-31" } })).status === 201, 20_000);
  }
  const payDates = ["2026-02-01", "2026-03-01", "2026-04-01"];
  for (const [k, business_date] of DATES.entries()) {
    at(payDates[k]);
    await pay(api, loans[0].id, "888.49", payDates[k]);
    at(business_date);
    // a snapshot is immutable once taken: wait until the snapshots projection holds the book
    await eventually(async () => {
      const { loans: members } = await node.call<any, any>("snapshots.members", { portfolio_id: q1, business_date });
      return members.length === 2 && members.some((l: any) => l.cash_flows.filter((f: any) => f.amount === "888.49").length === k + 1 && l.state.as_of === payDates[k]);
    }, 20_000);
    snapshots.push(await ok(api("POST", `/api/v1/portfolios/${q1}/snapshots`, { token: T.servicer, body: { business_date } }), 201));
  }
  page = await openPage();
}, 120_000);

afterAll(async () => {
  await page?.close();
  await node?.stop();
  await nats?.stop();
  await mongo?.stop();
});

it("signs in, lists the portfolios and charts the first one's snapshot trends", async () => {
  await page.navigate(`${gatewayUrl(node)}/dashboard`);
  expect(await page.evaluate("document.getElementById('main').hidden")).toBe(true);
  await page.evaluate(`document.getElementById('token').value = ${JSON.stringify(TEST_TOKENS.analyst)}; document.getElementById('signin').requestSubmit()`);
  // While waiting, keep what the page says: when the charts never come, the failure names why.
  await eventually(async () => {
    const [ready, said] = await page.evaluate<[boolean, string]>("[document.body.dataset.chartsReady === 'true', document.getElementById('status').textContent]");
    if (!ready) throw new Error(`charts not drawn; the page says: ${said || "(nothing)"}`);
    return true;
  }, 20_000, 100);

  expect(await page.evaluate("[...document.querySelectorAll('#portfolios button')].map((b) => b.firstChild.textContent)")).toEqual(["Q1 Consumer", "Leases 2026"]);
  expect(await page.evaluate("document.getElementById('portfolio-name').textContent")).toBe("Q1 Consumer");
  expect(await page.evaluate("document.getElementById('snapshot-count').textContent")).toBe("3 snapshot(s)");
  expect(snapshots.map((x) => x.loan_count)).toEqual([2, 2, 2]);
  // the route takes what the page sends: a date window and a page size
  const api = apiClient(gatewayUrl(node));
  const windowed = await ok(api("GET", `/api/v1/portfolios/${q1}/snapshots?from=${DATES[1]}&to=${DATES[2]}&limit=500`, { token: T.analyst }));
  expect(windowed).toMatchObject({ total: 2, limit: 500, offset: 0 });
  expect(windowed.items.map((x: any) => x.business_date)).toEqual(DATES.slice(1));
  const paged = await ok(api("GET", `/api/v1/portfolios/${q1}/snapshots?limit=1&offset=1`, { token: T.analyst }));
  expect(paged).toMatchObject({ total: 3, items: [expect.objectContaining({ business_date: DATES[1] })] });
  expect((await api("GET", `/api/v1/portfolios/${q1}/snapshots?limit=501`, { token: T.analyst })).status).toBe(400);

  const charts = await page.evaluate<any>(
    "Object.fromEntries(Object.entries(window.dashboardCharts).map(([k, c]) => [k, { type: c.config.type, labels: c.data.labels, sets: c.data.datasets.map((d) => ({ label: d.label, data: d.data, stack: d.stack })) }]))",
  );
  // the charts hold the figures of the snapshots taken, date by date
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  const bucketBalance = (x: any, b: string) => {
    const v = x.bucket_breakdown?.[b];
    return v === undefined || v === null ? 0 : Number(typeof v === "object" ? v.balance : v);
  };
  expect(charts.balance).toEqual({
    type: "line",
    labels: DATES,
    sets: [{ label: "Total balance", data: snapshots.map((x) => num(x.total_balance)) }, { label: "Delinquent amount", data: snapshots.map((x) => num(x.delinquent_amount)) }],
  });
  expect(charts.balance.sets[0].data.every((v: number) => v > 0)).toBe(true);
  expect(charts.buckets.type).toBe("bar");
  expect(charts.buckets.labels).toEqual(DATES);
  expect(charts.buckets.sets.map((x: any) => [x.label, x.data, x.stack])).toEqual(BUCKETS.map((b) => [b, snapshots.map((x) => bucketBalance(x, b)), "buckets"]));
  expect(charts.returns.sets).toEqual([
    { label: "IRR %", data: snapshots.map((x) => (x.irr === null ? null : Math.round(Number(x.irr) * 10000) / 100)) },
    { label: "MOIC", data: snapshots.map((x) => num(x.moic)) },
  ]);
  // the payments between the dates show: each later snapshot has collected more
  const moic = charts.returns.sets[1].data as number[];
  expect(moic[0]).toBeLessThan(moic[1]);
  expect(moic[1]).toBeLessThan(moic[2]);
  // Drawn, not just configured: the canvases have pixels.
  expect(await page.evaluate("['chart-balance','chart-buckets','chart-returns'].every((id) => document.getElementById(id).width > 100)")).toBe(true);

  const file = path.resolve(__dirname, "../../tmp/dashboard.png");
  mkdirSync(path.dirname(file), { recursive: true });
  const png = await page.screenshot();
  writeFileSync(file, png);
  expect(png.subarray(1, 4).toString()).toBe("PNG");
}, 60_000);

it("says why when the token is refused", async () => {
  await page.evaluate("sessionStorage.clear()");
  await page.navigate(`${gatewayUrl(node)}/dashboard?again`);
  await page.evaluate("document.getElementById('token').value = 'wrong'; document.getElementById('signin').requestSubmit()");
  const status = await eventually(async () => {
    const text = await page.evaluate<string>("document.getElementById('status').textContent");
    return text.startsWith("Cannot") ? text : undefined;
  }, 10_000, 100);
  expect(status).toMatch(/Cannot list portfolios: unknown bearer token/);
  expect(await page.evaluate("document.getElementById('main').hidden")).toBe(true);
});
