/**
 * Issue 13 point 3: the dashboard in headless Chromium (Debian's package). The portfolio list comes
 * from the real portfolios service (GET /api/v1/portfolios); a stand-in answers the snapshots route
 * (GET /api/v1/portfolios/:id/snapshots) until the snapshots service exists, with the params that
 * route takes (a REST action's params are strict: the page's `limit` must be declared). The test
 * signs in with a token, waits for the charts, checks they hold the snapshot data and saves a
 * screenshot (tmp/dashboard.png).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { ServiceBroker } from "moleculer";
import { apiClient, eventually, gatewayUrl, startNode, TEST_TOKENS, waitForRoutes } from "../support/system";
import { startTestMongo, uniqueDbUrl } from "../support/mongo";
import type { RunningMongo } from "../../shared/runtime/mongo-server";
import { openPage, type Page } from "../support/chromium";
import { paginationParams } from "../../shared/db/pagination";
import { dateWindowParams, objectId } from "../../shared/validation/fields";

const READ = ["admin", "servicer", "analyst", "investor"];
const SNAPSHOTS = [
  { business_date: "2026-11-01", total_balance: "150000.00", delinquent_amount: "5000.00", irr: "0.0810", moic: "0.12", bucket_breakdown: { current: { count: 9, balance: "145000.00" }, "1_29": { count: 1, balance: "5000.00" } } },
  { business_date: "2026-11-02", total_balance: "148500.00", delinquent_amount: "8200.00", irr: "0.0795", moic: "0.13", bucket_breakdown: { current: { count: 8, balance: "140300.00" }, "1_29": { count: 1, balance: "3200.00" }, "30_59": { count: 1, balance: "5000.00" } } },
  { business_date: "2026-11-03", total_balance: "147000.00", delinquent_amount: "8000.00", irr: null, moic: "0.14", bucket_breakdown: { current: { count: 8, balance: "139000.00" }, "30_59": { count: 1, balance: "3000.00" }, "60_89": { count: 1, balance: "5000.00" } } },
];

let mongo: RunningMongo;
let node: ServiceBroker;
let page: Page;
const asked: string[] = [];
let q1 = "";

beforeAll(async () => {
  mongo = await startTestMongo();
  node = await startNode({
    nodeID: "dash-browser",
    services: ["gateway", "portfolios"],
    mongoUrl: uniqueDbUrl(mongo.url, "dashboard"),
    extraServices: [
      {
        name: "snapshots",
        settings: { rest: "/portfolios" },
        actions: {
          list: {
            rest: "GET /:id/snapshots",
            roles: READ,
            params: { id: objectId, ...dateWindowParams, ...paginationParams },
            handler: (ctx: any) => {
              asked.push(`${ctx.params.id} ${ctx.meta.user?.role}`);
              // Newest first, as a list endpoint answers: the page orders them itself.
              const items = ctx.params.id === q1 ? [...SNAPSHOTS].reverse() : [];
              return { items, total: items.length, limit: ctx.params.limit, offset: ctx.params.offset };
            },
          },
        },
      },
    ] as any,
  });
  await waitForRoutes(node, ["GET /api/v1/portfolios", "POST /api/v1/portfolios", "GET /api/v1/portfolios/:id/snapshots"]);
  const api = apiClient(gatewayUrl(node));
  const created = await api("POST", "/api/v1/portfolios", { token: TEST_TOKENS.admin, body: { name: "Q1 Consumer", user_code: "LP-Q1" } });
  expect(created.status).toBe(201);
  q1 = created.body.id;
  const leases = await api("POST", "/api/v1/portfolios", { token: TEST_TOKENS.admin, body: { name: "Leases 2026" } });
  expect(leases.status).toBe(201);
  expect((await api("POST", `/api/v1/portfolios/${leases.body.id}/close`, { token: TEST_TOKENS.admin })).status).toBe(200);
  page = await openPage();
}, 90_000);

afterAll(async () => {
  await page?.close();
  await node?.stop();
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
  expect(asked).toEqual([`${q1} analyst`]);

  const charts = await page.evaluate<any>(
    "Object.fromEntries(Object.entries(window.dashboardCharts).map(([k, c]) => [k, { type: c.config.type, labels: c.data.labels, sets: c.data.datasets.map((d) => ({ label: d.label, data: d.data, stack: d.stack })) }]))",
  );
  const dates = ["2026-11-01", "2026-11-02", "2026-11-03"];
  expect(charts.balance).toEqual({ type: "line", labels: dates, sets: [{ label: "Total balance", data: [150000, 148500, 147000] }, { label: "Delinquent amount", data: [5000, 8200, 8000] }] });
  expect(charts.buckets.type).toBe("bar");
  expect(charts.buckets.labels).toEqual(dates);
  expect(charts.buckets.sets.map((s: any) => [s.label, s.data, s.stack])).toEqual([
    ["current", [145000, 140300, 139000], "buckets"],
    ["1_29", [5000, 3200, 0], "buckets"],
    ["30_59", [0, 5000, 3000], "buckets"],
    ["60_89", [0, 0, 5000], "buckets"],
    ["90_119", [0, 0, 0], "buckets"],
    ["120_plus", [0, 0, 0], "buckets"],
  ]);
  expect(charts.returns.sets).toEqual([{ label: "IRR %", data: [8.1, 7.95, null] }, { label: "MOIC", data: [0.12, 0.13, 0.14] }]);
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
