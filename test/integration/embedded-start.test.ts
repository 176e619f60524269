/**
 * Issue 2, point 4: `npm start` with no environment runs the whole system in one process on an
 * embedded MongoDB-compatible server, prints the gateway URL and the development token, serves
 * the API, and shuts down cleanly on SIGTERM. Issue 8, point 12: its demo data includes loans of
 * every demo product, serviced with payments, and seeding again doubles nothing.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { apiClient, eventually } from "../support/http";
import { freePort, startSystemProcess, type StartedProcess } from "../support/processes";
import { DEMO_PRODUCTS } from "../../shared/seed/demo-data";
import { DEMO_LOANS } from "../../shared/seed/demo-loans";

let system: StartedProcess;
let port: number;

beforeAll(async () => {
  port = await freePort();
  system = await startSystemProcess({ PORT: String(port), SEED_DEMO: "auto" }, 120_000);
}, 150_000);

afterAll(() => {
  if (system && system.child.exitCode === null) system.child.kill("SIGKILL");
});

it("prints the gateway URL and the development token", () => {
  expect(system.output()).toContain(`gateway: http://localhost:${port}/api/v1`);
  expect(system.output()).toContain("development token: dev-admin-token");
  expect(system.output()).toMatch(/MongoDB: (java-wire|memory-server|testcontainers)/);
});

it("is ready, seeded, and guarded by the development token", async () => {
  const api = apiClient(`http://127.0.0.1:${port}`);
  const ready = await eventually(async () => {
    const r = await api("GET", "/ready");
    return r.status === 200 ? r : undefined;
  }, 20_000);
  expect(ready.body.ready).toBe(true);
  expect(Object.values(ready.body.services).every((s: any) => s.status === "ok")).toBe(true);

  const programs = await eventually(async () => {
    const r = await api("GET", "/api/v1/programs", { token: "dev-admin-token" });
    return r.status === 200 ? r : undefined;
  });
  expect(programs.body.total).toBe(4);
  expect(programs.headers.get("x-request-id")).toBeTruthy();
  expect((await api("GET", "/api/v1/programs")).status).toBe(401);
  const sofr = await api("GET", "/api/v1/index-rates?index_name=SOFR&limit=500", { token: "dev-admin-token" });
  expect(sofr.body.total).toBeGreaterThanOrEqual(52);

  expect((await api("GET", "/health")).body.status).toBe("ok");
  // Metrics are served on each node's internal HEALTH_PORT only, never on the public port.
  expect((await api("GET", "/metrics/prometheus")).status).toBe(404);
});

it("builds the demo book day by day: loans of every product, their closes, late fees and portfolios; a second seed doubles nothing", async () => {
  const api = apiClient(`http://127.0.0.1:${port}`);
  const token = "dev-admin-token";
  // Built once the node reports itself up (bin/start.ts), so the start stays quick: a year of
  // business days, each with its close of business and auto-assignment (shared/seed/seed-demo-book.ts).
  const line = await eventually(() => /demo book: (\{.*\}) in [\d.]+ s/.exec(system.output()), 300_000, 200);
  const report = JSON.parse(line[1]);
  expect(report).toMatchObject({ loans: DEMO_LOANS.length, loan_errors: 0, loans_skipped_existing: 0, portfolios: 2 });
  expect(report.days_closed).toBeGreaterThan(300);
  expect(report.loan_payments).toBeGreaterThanOrEqual(60);

  const loans = await api("GET", "/api/v1/loans?limit=100", { token });
  expect(loans.status).toBe(200);
  expect(loans.body.total).toBe(DEMO_LOANS.length);
  const items: any[] = loans.body.items;
  const ledgers = new Map<string, string[]>();
  for (const loan of items) {
    const tx = await api("GET", `/api/v1/loans/${loan.id}/transactions?limit=100`, { token });
    ledgers.set(loan.id, tx.body.items.map((t: any) => t.type));
  }
  for (const product of DEMO_PRODUCTS) {
    const ofProduct = items.filter((l) => l.product_name === product.name);
    expect({ product: product.name, loans: ofProduct.length >= 3 }).toEqual({ product: product.name, loans: true });
    for (const loan of ofProduct) expect({ loan: loan.external_id, paid: ledgers.get(loan.id)!.includes("payment") }).toEqual({ loan: loan.external_id, paid: true });
  }
  const byExternal = new Map(items.map((l) => [l.external_id, l]));
  expect(byExternal.get("DEMO-PL-0003").status).toBe("paid_off");
  expect(ledgers.get(byExternal.get("DEMO-LS-0002").id)).toContain("buyout");
  expect(ledgers.get(byExternal.get("DEMO-LC-0001").id)).toContain("draw");
  expect(items.some((l) => l.status === "delinquent")).toBe(true);
  // the daily close, not the script, fined the missed installments; auto-assign filled the portfolios
  const fees = (await api("GET", `/api/v1/loans/${byExternal.get("DEMO-PL-0002").id}/transactions?limit=100`, { token })).body.items.filter((t: any) => t.type === "fee");
  expect(fees.length).toBeGreaterThan(0);
  expect(fees.every((t: any) => t.actor === "close_of_business")).toBe(true);
  expect(items.filter((l) => l.program_type === "installment" && l.portfolio_id).length).toBeGreaterThan(0);
  const statements = await api("GET", `/api/v1/loans/${byExternal.get("DEMO-LC-0001").id}/statements`, { token });
  expect(statements.body.total).toBeGreaterThanOrEqual(6);

  // `npm run seed` against the same database: everything exists already.
  const mongoUrl = /MongoDB: \S+ at (mongodb:\/\/\S+)/.exec(system.output())![1];
  const again = await runSeed(mongoUrl);
  expect(again).toMatchObject({ loans: 0, loan_payments: 0, loans_skipped_existing: DEMO_LOANS.length, loan_errors: 0, programs: 0 });
  expect((await api("GET", "/api/v1/loans?limit=1", { token })).body.total).toBe(DEMO_LOANS.length);
}, 400_000);

it("stops cleanly on SIGTERM", async () => {
  expect(await system.stop()).toBe(0);
}, 30_000);

/** Runs bin/seed.ts with only MONGO_URL (its own programs, rates and loans services); returns its report. */
function runSeed(mongoUrl: string): Promise<any> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, MONGO_URL: mongoUrl, LOG_LEVEL: "warn" };
    for (const key of ["TRANSPORTER", "SERVICES", "JETSTREAM_URL", "AUTH_TOKENS", "NODE_ENV"]) delete env[key];
    const child = spawn(process.execPath, ["--import", "tsx", "bin/seed.ts"], { cwd: path.resolve(__dirname, "../.."), env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.once("error", reject);
    child.once("exit", (code) => {
      const line = /\[seed\] (\{.*\})/.exec(out);
      if (code !== 0 || !line) return reject(new Error(`bin/seed.ts exited ${code}:\n${out}`));
      resolve(JSON.parse(line[1]));
    });
  });
}
