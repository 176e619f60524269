/**
 * Loans bench (issue 8, point 11): payments posted through the gateway, 50 in flight, on a book of
 * 10,000 disbursed loans, in two deployments —
 *   embedded: one bin/start.ts process (gateway, programs, rates, loans; in-process transport)
 *   split:    a gateway process and a programs+rates+loans process over a `nats-server -js`
 * on one Java wire server (shared/runtime/mongo-server.ts) and one book, built by the first mode
 * (templates through the API, cloned; its build is not measured); the second mode's payments continue each loan's schedule, on the
 * ledger the first left. Per mode: payments/s, p50,
 * p99, the first and last 10 s, and the same figures for `POST /index-rates` (the baseline, same
 * concurrency, distinct dates) measured in the same run. Then split/embedded, and the BSON size
 * of a loan's hot document for a 12-month and a 360-month loan.
 *
 * Run: npm run bench -- loans   (BENCH_BOOK, BENCH_SECONDS, BENCH_WARMUP_SECONDS, BENCH_BASELINE_SECONDS, BENCH_MODES=embedded,split,
 * BENCH_CPU_PROF=<dir> to profile the system's processes)
 */
import { execSync } from "node:child_process";
import { createServer } from "node:net";
import { DateTime } from "luxon";
import { MongoClient } from "mongodb";
import mongoose from "mongoose";
import { startJavaWireServer, type RunningMongo } from "../../shared/runtime/mongo-server";
import { businessToday } from "../../shared/runtime/business-date";
import { cloneTemplates } from "../../test/support/loan-book";
import { startNats, type RunningNats } from "../../test/support/nats";
import { cpuBetween, cpuInWindow, cpuSnapshot, cpuTimeline, type CpuMark } from "../lib/cpu";
import { figures, httpClient, runPool, type LoadFigures } from "../lib/http-load";
import { startNodeProcess, type NodeProcess } from "../lib/system-process";

const BOOK = Number(process.env.BENCH_BOOK ?? 10_000);
const PAY_SECONDS = Number(process.env.BENCH_SECONDS ?? 35);
/**
 * Payments before the measured ones (same loans, same path, not counted): a fresh process's JIT
 * and caches warm up, so first vs last 10 s shows what the ledger's growth does, not the start.
 * 15 s: after 5 s the rate still rose by a third between the first and last 10 s (V8's and the
 * wire server's JVM's compilers were still at work), which no growth of the ledger explains.
 */
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 15);
const BASELINE_SECONDS = Number(process.env.BENCH_BASELINE_SECONDS ?? 20);
const IN_FLIGHT = 50;
const MODES = (process.env.BENCH_MODES ?? "embedded,split").split(",") as Mode[];
const TOKEN = "dev-admin-token";
const TERM = 36;
type Mode = "embedded" | "split";
type Api = ReturnType<typeof httpClient>;

const today = businessToday(process.env.BUSINESS_TZ ?? "America/New_York");
const fmt = (x: number, d = 0) => (Number.isFinite(x) ? x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d }) : "n/a");
const load = () => execSync("uptime").toString().trim().replace(/^.*load average/, "load average");
const log = (m: string) => console.log(`[bench loans] ${m}`);
/** CPU ms per booked payment, per process (the figure least bent by the machine's load). */
const cpuPerPayment = (cpu: Record<string, number>, n: number) => Object.entries(cpu).map(([k, v]) => `${k} ${((1000 * v) / Math.max(1, n)).toFixed(2)}`).join(", ");

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

async function must(p: Promise<{ status: number; body: any }>, what: string): Promise<any> {
  const r = await p;
  if (r.status >= 300) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body).slice(0, 500)}`);
  return r.body;
}

/** The system of one mode, up and routing loans and index-rates requests. */
async function startMode(mode: Mode, mongoUrl: string): Promise<{ api: Api; nodes: NodeProcess[]; nats?: RunningNats; upSeconds: number }> {
  const port = await freePort();
  const t0 = performance.now();
  let nodes: NodeProcess[];
  let nats: RunningNats | undefined;
  if (mode === "embedded") {
    nodes = [await startNodeProcess("embedded", { SERVICES: "gateway,programs,rates,loans", MONGO_URL: mongoUrl, PORT: String(port) })];
  } else {
    nats = await startNats({ jetstream: true });
    const env = { TRANSPORTER: nats.url, MONGO_URL: mongoUrl };
    nodes = await Promise.all([
      startNodeProcess("split-core", { ...env, SERVICES: "programs,rates,loans", PORT: "0" }),
      startNodeProcess("split-gateway", { ...env, SERVICES: "gateway", PORT: String(port) }),
    ]);
  }
  const api = httpClient(`http://127.0.0.1:${port}`, TOKEN, 256);
  // The gateway generates its routes once it has seen the services (at once embedded, over NATS a moment later).
  const deadline = Date.now() + 60_000;
  for (;;) {
    const [a, b] = await Promise.all([api("GET", "/api/v1/loans?limit=1").catch(() => ({ status: 0 })), api("GET", "/api/v1/index-rates?limit=1").catch(() => ({ status: 0 }))]);
    if (a.status === 200 && b.status === 200) break;
    if (Date.now() > deadline) throw new Error(`${mode}: routes not ready (${a.status}, ${b.status})`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { api, nodes, nats, upSeconds: (performance.now() - t0) / 1000 };
}

async function makeProduct(api: Api): Promise<string> {
  const program = await must(api("POST", "/api/v1/programs", {
    name: `Bench installment ${Date.now()}`,
    program_type: "installment",
    day_count_convention: "actual_365",
    accrual_method: "simple",
    payment_allocation_order: ["interest", "fees", "principal"],
  }), "create program");
  const product = await must(api("POST", "/api/v1/products", {
    name: `Bench product ${Date.now()}`,
    program_id: program.id,
    interest_rate_type: "fixed",
    default_interest_rate: "0.1200",
    min_term_months: 1,
    max_term_months: 360,
    min_loan_amount: "100.00",
    max_loan_amount: "1000000.00",
    grace_period_days: 10,
  }), "create product");
  return product.id;
}

interface BookLoan {
  id: string;
  due: { date: string; payment: string }[];
}

const TEMPLATE_DAYS = 28;
const TEMPLATE_PRINCIPALS = ["5000.00", "12500.00", "24875.00"];

/**
 * 10,000 disbursed loans, disbursed 13–14 months ago on spread dates, so a year of due dates is
 * past. Built as the close-of-business bench builds its book: a template loan per disbursement day
 * and principal originated and disbursed through the API (so every document is what the service
 * writes), then cloned with new ids and partitions straight into MongoDB — loan, schedule and
 * ledger (test/support/loan-book.ts). Creating all 10,000 through the API took ~400 s.
 */
async function buildBook(api: Api, productId: string, mongoUrl: string): Promise<{ book: BookLoan[]; seconds: number; errors: number }> {
  const t0 = performance.now();
  const base = DateTime.fromISO(today, { zone: "utc" }).minus({ months: 14 });
  const count = TEMPLATE_DAYS * TEMPLATE_PRINCIPALS.length;
  const templates: BookLoan[] = new Array(count);
  const { samples } = await runPool({ concurrency: 8, count }, async (n) => {
    const principal = TEMPLATE_PRINCIPALS[Math.floor(n / TEMPLATE_DAYS)];
    const created = await api("POST", "/api/v1/loans", { product_id: productId, principal, term_months: TERM });
    if (created.status !== 201) return created.status;
    const date = base.plus({ days: n % TEMPLATE_DAYS }).toISODate()!;
    const disbursed = await api("POST", `/api/v1/loans/${created.body.id}/disburse`, { date });
    if (disbursed.status !== 200) return disbursed.status;
    templates[n] = { id: created.body.id, due: disbursed.body.schedule.filter((r: any) => r.due_date <= today).map((r: any) => ({ date: r.due_date, payment: r.payment })) };
    return 200;
  });
  const errors = samples.filter((s) => s.status !== 200).length;
  if (errors) throw new Error(`${errors} template loans failed`);
  const client = await MongoClient.connect(mongoUrl);
  try {
    const db = client.db(new URL(mongoUrl).pathname.slice(1));
    const ids = await cloneTemplates(db, templates.map((t) => t.id), BOOK - count, { batch: 1000 });
    const book = [...templates, ...ids.map((id, i) => ({ id, due: templates[i % count].due }))];
    return { book, seconds: (performance.now() - t0) / 1000, errors };
  } finally {
    await client.close();
  }
}

/**
 * The baseline: POST /index-rates, one series, a distinct date per request going forward (as a
 * feed adds them: each new observation's trailing average reads the year before it).
 */
async function indexRates(api: Api, mode: Mode): Promise<LoadFigures> {
  const start = DateTime.fromISO("1970-01-01", { zone: "utc" });
  const name = `BENCH_${mode.toUpperCase()}`;
  const { samples, elapsedMs } = await runPool({ concurrency: IN_FLIGHT, durationMs: BASELINE_SECONDS * 1000 }, async (n) => {
    const r = await api("POST", "/api/v1/index-rates", { index_name: name, rate: (0.04 + (n % 50) / 10_000).toFixed(4), effective_date: start.plus({ days: n }).toISODate() });
    return r.status;
  });
  return figures(samples, elapsedMs, (s) => s === 201);
}

/**
 * What a window of the payments cost each process, per booked payment, and what the machine spent
 * outside the bench or lost to its hypervisor: when the rate moves between the first and the last
 * window, this says whether some process began to work harder per payment.
 */
interface WindowCost {
  perSecond: number;
  cpu: Record<string, number>;
  payments: number;
  othersSeconds: number;
  stolenSeconds: number;
}

function windowCost(marks: CpuMark[], from: number, to: number, perSecond: number): WindowCost {
  const w = cpuInWindow(marks, from, to);
  const ours = Object.values(w.processes).reduce((a, b) => a + b, 0);
  return { perSecond, cpu: w.processes, payments: (perSecond * w.ms) / 1000, othersSeconds: Math.max(0, w.machine.busy - ours), stolenSeconds: w.machine.steal };
}

const costText = (c: WindowCost) =>
  `${fmt(c.perSecond)}/s, CPU ms per payment: ${cpuPerPayment(c.cpu, c.payments)}; others ${c.othersSeconds.toFixed(1)} s, stolen ${c.stolenSeconds.toFixed(1)} s`;

/**
 * Payments: the n-th goes to loan n mod 10,000 and pays its next scheduled installment on its due
 * date (each loan's payments in date order, never two at once on a loan), with a unique key.
 */
async function payments(api: Api, book: BookLoan[], mode: Mode, offset: number, seconds = PAY_SECONDS): Promise<LoadFigures & { statuses: Record<string, number>; firstCost: WindowCost; lastCost: WindowCost }> {
  const statuses: Record<string, number> = {};
  const timeline = cpuTimeline();
  const { samples, elapsedMs } = await runPool({ concurrency: IN_FLIGHT, durationMs: seconds * 1000 }, async (i) => {
    const n = i + offset;
    const loan = book[n % book.length];
    const k = Math.floor(n / book.length);
    const due = loan.due[Math.min(k, loan.due.length - 1)];
    const date = k < loan.due.length ? due.date : today;
    const r = await api("POST", `/api/v1/loans/${loan.id}/payments`, { amount: due.payment, date, idempotency_key: `bench-${mode}-${n}` });
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    if (r.status !== 201 && (statuses[r.status] ?? 0) <= 3) log(`payment ${n}: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
    return r.status;
  });
  if (process.env.BENCH_TAIL) {
    // Where the tail lies: per second, requests slower than 150 ms and the slowest (clustered
    // seconds point at a stall — a GC pause, a periodic scan —, spread ones at queueing).
    const bySecond = new Map<number, { slow: number; max: number }>();
    for (const s of samples) {
      const b = bySecond.get(Math.floor(s.at / 1000)) ?? { slow: 0, max: 0 };
      if (s.ms > 150) b.slow++;
      b.max = Math.max(b.max, s.ms);
      bySecond.set(Math.floor(s.at / 1000), b);
    }
    log(`${mode}: tail by second (slow > 150 ms / max ms): ${[...bySecond].map(([sec, b]) => `${sec}:${b.slow}/${Math.round(b.max)}`).join(" ")}`);
  }
  const marks = timeline.stop();
  const fig = figures(samples, elapsedMs, (s) => s === 201);
  const window = Math.min(10_000, elapsedMs / 2); // figures()'s windows
  return { ...fig, statuses, firstCost: windowCost(marks, 0, window, fig.first10), lastCost: windowCost(marks, elapsedMs - window, elapsedMs, fig.last10) };
}

/** BSON sizes of the hot loan document and its schedule documents, for a 12- and a 360-month loan after 3 payments. */
async function documentSizes(api: Api, productId: string, mongoUrl: string) {
  const date = DateTime.fromISO(today, { zone: "utc" }).minus({ months: 5 }).toISODate()!;
  const ids: Record<number, string> = {};
  for (const term of [12, 360]) {
    const created = await must(api("POST", "/api/v1/loans", { product_id: productId, principal: "250000.00", term_months: term }), "create loan");
    const disbursed = await must(api("POST", `/api/v1/loans/${created.id}/disburse`, { date }), "disburse");
    for (const row of disbursed.schedule.slice(0, 3)) await must(api("POST", `/api/v1/loans/${created.id}/payments`, { amount: row.payment, date: row.due_date, idempotency_key: `size-${term}-${row.number}` }), "pay");
    ids[term] = created.id;
  }
  const conn = await mongoose.createConnection(mongoUrl).asPromise();
  try {
    const size = (doc: unknown) => mongoose.mongo.BSON.calculateObjectSize(doc as any);
    const out: Record<number, { loan: number; schedules: number; scheduleDocs: number }> = {};
    for (const term of [12, 360]) {
      const loan = await conn.db!.collection("loans").findOne({ _id: new mongoose.Types.ObjectId(ids[term]) });
      const schedules = await conn.db!.collection("loan_schedules").find({ loan_id: ids[term] }).toArray();
      out[term] = { loan: size(loan), schedules: schedules.reduce((s, d) => s + size(d), 0), scheduleDocs: schedules.length };
    }
    const sample = await conn.db!.collection("loans").find({}).limit(200).toArray();
    const average = sample.reduce((s, d) => s + size(d), 0) / sample.length;
    return { out, average };
  } finally {
    await conn.close();
  }
}

interface ModeResult {
  mode: Mode;
  upSeconds: number;
  build: { seconds: number; loans: number; errors: number };
  baseline: LoadFigures;
  pay: Awaited<ReturnType<typeof payments>>;
  cpu: Record<string, number>;
  loadBefore: string;
  loadAfter: string;
  sizes?: Awaited<ReturnType<typeof documentSizes>>;
}

/** What the modes share: one database and one book, so it is built once; payments continue each loan's schedule. */
interface Shared {
  mongoUrl: string;
  productId?: string;
  book?: BookLoan[];
  build?: { seconds: number; loans: number; errors: number };
  /** payments attempted by the modes before */
  attempted: number;
}

async function runMode(mode: Mode, shared: Shared): Promise<ModeResult> {
  let sys: Awaited<ReturnType<typeof startMode>> | undefined;
  try {
    sys = await startMode(mode, shared.mongoUrl);
    log(`${mode}: up in ${sys.upSeconds.toFixed(1)} s (${sys.nodes.map((n) => n.name).join(", ")})`);
    if (!shared.book) {
      shared.productId = await makeProduct(sys.api);
      const build = await buildBook(sys.api, shared.productId, shared.mongoUrl);
      log(`${mode}: book of ${build.book.length} loans built in ${build.seconds.toFixed(1)} s (${TEMPLATE_DAYS * TEMPLATE_PRINCIPALS.length} templates through the API, the rest cloned)`);
      if (build.book.length < BOOK * 0.99) throw new Error(`${mode}: only ${build.book.length} of ${BOOK} loans were built`);
      shared.book = build.book;
      shared.build = { seconds: build.seconds, loans: build.book.length, errors: build.errors };
    }
    const loadBefore = load();
    const baseline = await indexRates(sys.api, mode);
    log(`${mode}: POST /index-rates ${fmt(baseline.perSecond)}/s p50 ${fmt(baseline.p50, 1)} ms p99 ${fmt(baseline.p99, 1)} ms (${baseline.errors} errors)`);
    if (WARMUP_SECONDS > 0) {
      const warm = await payments(sys.api, shared.book, mode, shared.attempted, WARMUP_SECONDS);
      shared.attempted += warm.requests + warm.errors;
      log(`${mode}: warm-up ${WARMUP_SECONDS} s, not counted: ${fmt(warm.perSecond)}/s p50 ${fmt(warm.p50, 1)} ms p99 ${fmt(warm.p99, 1)} ms; statuses ${JSON.stringify(warm.statuses)}`);
    }
    const cpuBefore = cpuSnapshot();
    const pay = await payments(sys.api, shared.book, mode, shared.attempted);
    shared.attempted += pay.requests + pay.errors;
    const cpu = cpuBetween(cpuBefore, cpuSnapshot());
    const loadAfter = load();
    log(`${mode}: CPU during the payments: ${Object.entries(cpu).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(", ")}; CPU ms per payment: ${cpuPerPayment(cpu, pay.requests)}`);
    log(`${mode}: payments ${fmt(pay.perSecond)}/s p50 ${fmt(pay.p50, 1)} ms p99 ${fmt(pay.p99, 1)} ms, first 10 s ${fmt(pay.first10)}/s, last 10 s ${fmt(pay.last10)}/s; statuses ${JSON.stringify(pay.statuses)}`);
    log(`${mode}: first 10 s ${costText(pay.firstCost)}`);
    log(`${mode}: last 10 s ${costText(pay.lastCost)}`);
    const sizes = mode === "embedded" ? await documentSizes(sys.api, shared.productId!, shared.mongoUrl) : undefined;
    return { mode, upSeconds: sys.upSeconds, build: shared.build!, baseline, pay, cpu, loadBefore, loadAfter, sizes };
  } finally {
    for (const n of sys?.nodes.slice().reverse() ?? []) await n.stop();
    await sys?.nats?.stop();
  }
}

async function main(): Promise<void> {
  console.log(`loans bench — node ${process.version}, ${BOOK} loans, ${IN_FLIGHT} in flight, payments ${PAY_SECONDS} s after a ${WARMUP_SECONDS} s warm-up, baseline ${BASELINE_SECONDS} s per mode, business date ${today}`);
  console.log(`machine: ${load()}`);
  const results: ModeResult[] = [];
  const mongo: RunningMongo = await startJavaWireServer();
  try {
    const shared: Shared = { mongoUrl: `${mongo.url}bench_loans`, attempted: 0 };
    for (const mode of MODES) results.push(await runMode(mode, shared));
  } finally {
    await mongo.stop();
  }

  const row = (cells: string[]) => cells;
  const lines = [row(["mode", "POST /payments", "p50 / p99 ms", "first / last 10 s", "POST /index-rates", "p50 / p99 ms", "payments ÷ index-rates", "load (1 min) before → after"])];
  for (const r of results) {
    lines.push(row([
      r.mode,
      `${fmt(r.pay.perSecond)}/s (${r.pay.requests} booked, ${r.pay.errors} failed)`,
      `${fmt(r.pay.p50, 1)} / ${fmt(r.pay.p99, 1)}`,
      `${fmt(r.pay.first10)} / ${fmt(r.pay.last10)}/s`,
      `${fmt(r.baseline.perSecond)}/s (first ${fmt(r.baseline.first10)}, last ${fmt(r.baseline.last10)})`,
      `${fmt(r.baseline.p50, 1)} / ${fmt(r.baseline.p99, 1)}`,
      `${fmt(r.pay.perSecond / r.baseline.perSecond, 2)}x`,
      `${r.loadBefore.split(/[:,]\s*/)[1]} → ${r.loadAfter.split(/[:,]\s*/)[1]}`,
    ]));
  }
  const widths = lines[0].map((_, c) => Math.max(...lines.map((l) => l[c].length)));
  console.log("");
  for (const [i, l] of lines.entries()) {
    console.log(l.map((cell, c) => cell.padEnd(widths[c])).join("  |  "));
    if (i === 0) console.log(widths.map((w) => "-".repeat(w)).join("--+--"));
  }
  for (const r of results) console.log(`${r.mode}: up in ${r.upSeconds.toFixed(1)} s; book of ${r.build.loans} built in ${r.build.seconds.toFixed(1)} s; load ${r.loadBefore} → ${r.loadAfter}; CPU ms per payment: ${cpuPerPayment(r.cpu, r.pay.requests)}`);

  const emb = results.find((r) => r.mode === "embedded");
  const split = results.find((r) => r.mode === "split");
  if (emb?.sizes) {
    const s = emb.sizes;
    console.log("");
    console.log(`hot document (loans, BSON) after 3 payments: 12-month ${fmt(s.out[12].loan)} B, 360-month ${fmt(s.out[360].loan)} B; book average ${fmt(s.average)} B`);
    console.log(`schedules (loan_schedules, BSON): 12-month ${fmt(s.out[12].schedules)} B in ${s.out[12].scheduleDocs} doc(s), 360-month ${fmt(s.out[360].schedules)} B in ${s.out[360].scheduleDocs} doc(s)`);
  }
  const targets: [string, boolean][] = [];
  if (emb) {
    targets.push([`embedded ≥ 500 payments/s (${fmt(emb.pay.perSecond)})`, emb.pay.perSecond >= 500]);
    targets.push([`embedded p99 ≤ 100 ms (${fmt(emb.pay.p99, 1)})`, emb.pay.p99 <= 100]);
  }
  if (emb && split) targets.push([`split ≥ 0.6x embedded (${fmt(split.pay.perSecond / emb.pay.perSecond, 2)}x)`, split.pay.perSecond >= 0.6 * emb.pay.perSecond]);
  for (const r of results) {
    const drift = Math.abs(r.pay.last10 - r.pay.first10) / r.pay.first10;
    targets.push([`${r.mode}: first and last 10 s within 15 % (${fmt(100 * (r.pay.last10 / r.pay.first10 - 1), 1)} %)`, drift <= 0.15]);
  }
  if (emb?.sizes) targets.push([`360-month hot document within 10 % of the 12-month one`, emb.sizes.out[360].loan <= emb.sizes.out[12].loan * 1.1]);
  console.log("");
  for (const [name, ok] of targets) console.log(`${ok ? "met   " : "MISSED"}  ${name}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
