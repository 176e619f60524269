/**
 * Issue 13 point 3 (the page; the headless-Chromium test waits for the snapshots service): the
 * gateway serves /dashboard and its scripts, Chart.js from node_modules (no CDN), under a strict
 * content security policy; series.js turns snapshots into the charts' data.
 */
import type { ServiceBroker } from "moleculer";
import { apiClient, gatewayUrl, startNode, TEST_TOKENS } from "../support/system";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Series = require("../../dashboard/series.js");

let node: ServiceBroker;
let base: string;

beforeAll(async () => {
  node = await startNode({ nodeID: "dash", services: ["gateway"], mongoUrl: "mongodb://unused" });
  base = gatewayUrl(node);
});
afterAll(() => node?.stop());

it("serves the page, its scripts and Chart.js from this origin only", async () => {
  const page = await fetch(`${base}/dashboard`);
  expect(page.status).toBe(200);
  expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
  expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
  const html = await page.text();
  for (const id of ["signin", "portfolios", "chart-balance", "chart-buckets", "chart-returns"]) expect(html).toContain(`id="${id}"`);
  const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
  expect(sources.sort()).toEqual(["/dashboard/app.js", "/dashboard/series.js", "/dashboard/style.css", "/dashboard/vendor/chart.js"]);
  expect(html).not.toMatch(/https?:\/\//);
  for (const src of sources) {
    const r = await fetch(base + src);
    expect([src, r.status]).toEqual([src, 200]);
  }
  const chart = await (await fetch(`${base}/dashboard/vendor/chart.js`)).text();
  expect(chart).toMatch(/Chart\.js v4\./);
  // No authentication for the page itself: it signs in against the API with the user's token,
  // and says what the API answers (here: no portfolios service in this cluster).
  expect((await apiClient(base)("GET", "/api/v1/portfolios")).status).toBe(401);
  const absent = await apiClient(base)("GET", "/api/v1/portfolios", { token: TEST_TOKENS.analyst });
  expect([absent.status, absent.body.error.data.service]).toEqual([503, "portfolios"]);
});

describe("series.js", () => {
  const snapshots = [
    { business_date: "2026-11-02", total_balance: "1000.00", delinquent_amount: "0.00", irr: null, moic: "0.10", bucket_breakdown: { current: { count: 2, balance: "1000.00" } } },
    { business_date: "2026-11-01", total_balance: "1200.00", delinquent_amount: "50.00", irr: "0.0725", moic: "0.05", bucket_breakdown: { current: { count: 2, balance: "1150.00" }, "1_29": { count: 1, balance: "50.00" } } },
  ];

  it("orders snapshots by date and charts balance and delinquency", () => {
    const chart = Series.balanceChart(snapshots);
    expect(chart.labels).toEqual(["2026-11-01", "2026-11-02"]);
    expect(chart.datasets.map((d: any) => d.data)).toEqual([[1200, 1000], [50, 0]]);
  });

  it("stacks every delinquency bucket's balance, missing buckets as 0", () => {
    const chart = Series.bucketChart(snapshots);
    expect(chart.datasets.map((d: any) => d.label)).toEqual(["current", "1_29", "30_59", "60_89", "90_119", "120_plus"]);
    expect(chart.datasets[0].data).toEqual([1150, 1000]);
    expect(chart.datasets[1].data).toEqual([50, 0]);
    expect(new Set(chart.datasets.map((d: any) => d.stack))).toEqual(new Set(["buckets"]));
  });

  it("draws IRR as a percentage with gaps where it has no root, and MOIC as a multiple", () => {
    const chart = Series.returnsChart(snapshots);
    expect(chart.datasets[0]).toMatchObject({ label: "IRR %", data: [7.25, null], yAxisID: "irr" });
    expect(chart.datasets[1]).toMatchObject({ label: "MOIC", data: [0.05, 0.1], yAxisID: "moic" });
  });

  it("reads list answers and bare arrays", () => {
    expect(Series.itemsOf({ items: [1], total: 1 })).toEqual([1]);
    expect(Series.itemsOf([2])).toEqual([2]);
    expect(Series.itemsOf(undefined)).toEqual([]);
  });
});
