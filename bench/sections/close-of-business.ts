/**
 * Close-of-business bench (issue 9 point 8): a book of 100,000 and 200,000 loans on the embedded
 * MongoDB wire server, closed for one business date by `loans.closeOfBusiness` in a broker without
 * the gateway. Per size: seconds, loans/s, CPU seconds of node and of the Java wire server, peak
 * RSS of both during the close; then, in the same run, the raw MongoDB driver reading the same
 * documents with the same cursors and bulk-writing the same fields back in chunks of the same
 * size — the floor — and the ratio to it.
 *
 * Two days' mixes (BENCH_COB_MIX=realistic, the default | heavy | both):
 * - realistic: an ordinary day of a book closed through the day before (the templates are closed
 *   through D-1 before they are cloned, so D is one day's work). Per 1,000 loans: 871 current with
 *   nothing due, 33 installments falling due (3 of them variable-rate loans with a rate reset
 *   that day, 30 fixed), 30 within grace, 42 delinquent (4.2 %: 35 already fined, 2 variable with
 *   a reset, 4 past grace that day and fined, 1 reaching the 120-day charge-off threshold),
 *   24 paid off (not open, skipped). So per 1,000 open loans: ~5 rate resets, ~4 late fees, ~1
 *   charge-off, ~34 installments due.
 * - heavy: the first close ever of the book (every late fee and reset since disbursement caught
 *   up), per 20 loans 13 current, 2 within grace, 1 variable paid up (a reset on the date), 1 late,
 *   1 variable and late (resets and fees), 1 past the charge-off threshold, 1 paid off: per 19,000
 *   open loans 11,000 late fees, 4,000 rate changes, 1,000 charge-offs.
 *
 * The book: template loans booked through the service's actions, cloned in the mix with new ids
 * and partitions, their schedules too (test/support/loan-book.ts).
 *
 * Run: npm run bench -- close-of-business   (BENCH_COB_SIZES=10000,20000 for a quick look;
 * BENCH_COB_MIX as above; BENCH_COB_GUARDED=0 skips the version-guarded raw pass; BENCH_COB_OPS=1
 * counts the close's operations; LOANS_CLOSE_CHUNK, LOANS_CLOSE_UNITS, LOANS_CLOSE_CONCURRENCY as for the service)
 */
import { BSON, MongoClient, type Db } from "mongodb";
import mongoose from "mongoose";
import { tuneGarbageCollector } from "../../shared/runtime/gc-tuning";
import { ServiceBroker } from "moleculer";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import v8 from "node:v8";
import { runInNewContext } from "node:vm";
import { DateTime } from "luxon";
import { brokerOptions } from "../../moleculer.config";
import { readConfig } from "../../shared/config";
import { SERVICE_SCHEMAS } from "../../services";
import { startJavaWireServer, WIRE_SERVER_JVM_DEFAULTS } from "../../shared/runtime/mongo-server";
import { PARTITIONS } from "../../shared/loans/origination";
import { uniqueDbUrl } from "../../test/support/mongo";
import { BOOK_CLOSE_DATE, bookDayTemplates, bookTemplates, cloneTemplates } from "../../test/support/loan-book";
import { cpuSnapshot } from "../lib/cpu";

const SIZES = (process.env.BENCH_COB_SIZES ?? "100000,200000").split(",").map(Number);
const CHUNK = Number(process.env.LOANS_CLOSE_CHUNK ?? 500);
const UNITS = Number(process.env.LOANS_CLOSE_UNITS ?? 8);
const CONCURRENCY = Number(process.env.LOANS_CLOSE_CONCURRENCY ?? 2);
type MixName = "realistic" | "heavy";
const MIX_NAMES: MixName[] = process.env.BENCH_COB_MIX === "both" ? ["realistic", "heavy"] : [(process.env.BENCH_COB_MIX as MixName) || "realistic"];
if (MIX_NAMES.some((m) => m !== "realistic" && m !== "heavy")) throw new Error(`BENCH_COB_MIX must be realistic, heavy or both`);
/** bookTemplates' order: current, late, charge-off, variable paid, variable late, within grace, paid off. */
const HEAVY = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 5, 3, 1, 4, 2, 6];
/** Per 1,000 loans (see the header); 7, 8, 9 are bookDayTemplates' due today, fee today, charge-off today. */
const REALISTIC_COUNTS: [number, number][] = [[0, 871], [7, 30], [3, 3], [5, 30], [1, 35], [4, 2], [8, 4], [9, 1], [6, 24]];
/** The counts interleaved evenly over the cycle, so every partition sees the same mix. */
function spread(counts: [number, number][]): number[] {
  const total = counts.reduce((s, [, n]) => s + n, 0);
  const slots: { t: number; at: number }[] = [];
  for (const [t, n] of counts) for (let k = 0; k < n; k++) slots.push({ t, at: (k + 0.5) / n });
  return slots.sort((a, b) => a.at - b.at).map((s) => s.t).slice(0, total);
}
const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
const fmt = (x: number, d = 1) => x.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });

/** The Java wire server's pid (the bench's only java child), its CPU seconds and resident set. */
function javaPid(): number | undefined {
  for (const [pid, p] of cpuSnapshot()) if (p.name.startsWith("java")) return pid;
  return undefined;
}
function procCpuSeconds(pid: number | undefined): number {
  if (!pid) return NaN;
  const raw = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = raw.slice(raw.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}
function procRss(pid: number | undefined): number {
  if (!pid) return NaN;
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : NaN;
}
/** BENCH_COB_HEAP=1: the Java server's live heap after a full collection (jcmd), in MB. */
function javaLiveHeapMb(pid: number | undefined): number | null {
  if (!pid || !process.env.BENCH_COB_HEAP) return null;
  try {
    execFileSync("jcmd", [String(pid), "GC.run"], { stdio: "ignore" });
    const m = /used (\d+)K/.exec(execFileSync("jcmd", [String(pid), "GC.heap_info"], { encoding: "utf8" }));
    // BENCH_COB_HEAP=histogram: what the heap holds, by class (the top 12).
    if (process.env.BENCH_COB_HEAP === "histogram") console.log(execFileSync("jcmd", [String(pid), "GC.class_histogram"], { encoding: "utf8" }).split("\n").slice(1, 16).join("\n"));
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
}
/** The Java server's GC time so far, in seconds (jstat: young, full, concurrent), or null without jstat. */
function javaGcSeconds(pid: number | undefined): { young: number; full: number; concurrent: number } | null {
  if (!pid) return null;
  try {
    const [head, values] = execFileSync("jstat", ["-gc", String(pid)], { encoding: "utf8" }).trim().split("\n").map((l) => l.trim().split(/\s+/));
    const at = (k: string) => Number(values[head.indexOf(k)]);
    return { young: at("YGCT"), full: at("FGCT"), concurrent: at("CGCT") };
  } catch {
    return null;
  }
}

/** A full collection of this process's heap (the flag set at run time), then its heap in use. */
v8.setFlagsFromString("--expose-gc");
const collect: () => void = runInNewContext("gc");
function liveHeap(): number {
  collect();
  return process.memoryUsage().heapUsed;
}
const nodeCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** Peak resident set size of this process and of the Java wire server between start() and stop(). */
class RssPeak {
  private node = 0;
  private java = 0;
  /** This process's memory by kind when its RSS peaked (V8 heap reserved and used, buffers). */
  private atPeak: NodeJS.MemoryUsage | null = null;
  private timer?: NodeJS.Timeout;
  constructor(private readonly pid: number | undefined) {}
  private sample() {
    const m = process.memoryUsage();
    if (m.rss > this.node) [this.node, this.atPeak] = [m.rss, m];
    this.java = Math.max(this.java, procRss(this.pid) || 0);
  }
  start() {
    this.sample();
    this.timer = setInterval(() => this.sample(), 200);
    return this;
  }
  stop() {
    clearInterval(this.timer);
    this.sample();
    return { node: this.node, java: this.java, atPeak: this.atPeak };
  }
}

/**
 * The floor: the same unit cursors, and one bulk write per chunk of the fields a close sets —
 * by `_id` alone, and (`guarded`) with the close's version guard `{ _id, version }`, which the
 * wire server answers by scanning the collection (only a bare `_id` is a lookup there).
 */
async function rawDriverPass(db: Db, guarded: boolean): Promise<number> {
  const loans = db.collection("loans");
  const started = Date.now();
  for (let unit = 0; unit < UNITS; unit++) {
    const partitions: number[] = [];
    for (let p = unit; p < PARTITIONS; p += UNITS) partitions.push(p);
    let chunk: any[] = [];
    const flush = async () => {
      if (!chunk.length) return;
      await loans.bulkWrite(
        chunk.map((d) => ({
          updateOne: {
            filter: guarded ? { _id: d._id, version: d.version } : { _id: d._id },
            update: {
              $set: {
                state: d.state, position: d.position, status: d.status, status_history: d.status_history, bucket_history: d.bucket_history, late_fees: d.late_fees,
                schedule_ref: d.schedule_ref, next_reset_date: d.next_reset_date, closed_through: d.closed_through, close_chunk: d.close_chunk, pending: null,
                version: d.version + 1, updated_at: new Date(),
              },
            },
          },
        })),
        { ordered: false },
      );
      chunk = [];
    };
    for await (const d of loans.find({ partition: { $in: partitions } }).batchSize(CHUNK)) {
      chunk.push(d);
      if (chunk.length >= CHUNK) await flush();
    }
    await flush();
  }
  return (Date.now() - started) / 1000;
}

/**
 * BENCH_COB_STORED=1: what the wire server holds, per collection — documents, and their BSON bytes
 * per loan of the book (a sample of up to 2,000 documents each) — to see where its heap goes.
 */
async function storedReport(db: Db, loans: number, label: string): Promise<void> {
  if (!process.env.BENCH_COB_STORED) return;
  const parts: string[] = [];
  let total = 0;
  for (const { name } of await db.listCollections().toArray()) {
    const c = db.collection(name);
    const n = await c.estimatedDocumentCount();
    if (!n) continue;
    const sample = await c.find({}).limit(2000).toArray();
    const avg = sample.reduce((s, d) => s + BSON.calculateObjectSize(d), 0) / sample.length;
    const perLoan = (avg * n) / loans;
    total += perLoan;
    parts.push(`${name} ${n} docs × ${Math.round(avg)} B = ${Math.round(perLoan)} B/loan`);
  }
  console.log(`  stored ${label}: ${Math.round(total)} B of BSON per loan: ${parts.join("; ")}`);
  // The loan document's fields by weight: what makes the hot document what it is.
  const fields = new Map<string, number>();
  const sample = await db.collection("loans").find({}).limit(2000).toArray();
  for (const d of sample) for (const [k, v] of Object.entries(d)) fields.set(k, (fields.get(k) ?? 0) + BSON.calculateObjectSize({ [k]: v }) - 5);
  console.log(`  a loan's fields (average BSON bytes): ${[...fields].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, n]) => `${k} ${Math.round(n / sample.length)}`).join(", ")}`);
}

/** BENCH_COB_OPS=1: counts the close's MongoDB operations per collection and method. */
const opCounts = new Map<string, number>();
if (process.env.BENCH_COB_OPS) {
  mongoose.set("debug", (collection: string, method: string) => {
    const k = `${collection}.${method}`;
    opCounts.set(k, (opCounts.get(k) ?? 0) + 1);
  });
}

async function benchSize(baseUrl: string, size: number, mix: MixName) {
  // The wire server answers nothing while it runs a long command: on a loaded machine the
  // driver's 30 s monitor timeout would drop the pool mid-close.
  const url = uniqueDbUrl(`${baseUrl}?connectTimeoutMS=600000&socketTimeoutMS=0&serverSelectionTimeoutMS=600000`, `cob_bench_${size}`);
  const broker = new ServiceBroker({ ...brokerOptions({ ...readConfig({}), logLevel: "warn" }, { mongoUrl: url }), nodeID: `bench-cob-${size}`, skipProcessEventRegistration: true });
  for (const name of ["programs", "rates", "loans"] as const) {
    const settings = name === "loans" ? { close: { units: UNITS, chunkSize: CHUNK, leaseMs: 120_000, concurrency: CONCURRENCY } } : {};
    broker.createService({ mixins: [SERVICE_SCHEMAS[name]], settings } as any);
  }
  await broker.start();
  const client = await MongoClient.connect(url);
  const db = client.db(new URL(url).pathname.slice(1));
  const java = javaPid();
  try {
    let t = Date.now();
    const call = (action: string, params: Record<string, unknown>) => broker.call(action, params, { timeout: 60_000 });
    const templates = await bookTemplates(call);
    if (mix === "realistic") {
      const day = await bookDayTemplates(call);
      templates.push(day.dueToday, day.feeToday, day.chargeOffToday);
      // The book was closed through yesterday: D is one day's work.
      const yesterday = DateTime.fromISO(BOOK_CLOSE_DATE, { zone: "utc" }).minus({ days: 1 }).toISODate()!;
      await broker.call("loans.closeOfBusiness", { business_date: yesterday }, { timeout: 600_000 });
    }
    await cloneTemplates(db, templates, size - templates.length, { ledger: false, batch: 1000, mix: mix === "realistic" ? spread(REALISTIC_COUNTS) : HEAVY });
    const buildS = (Date.now() - t) / 1000;
    console.log(`  ${size.toLocaleString("en-US")} loans (${mix}) built in ${fmt(buildS)} s; closing ${BOOK_CLOSE_DATE} at ${new Date().toISOString()}…`);
    await storedReport(db, size, "after the build");
    const heapBuilt = javaLiveHeapMb(java);
    const heapBefore = liveHeap();
    opCounts.clear();
    const rssAtStart = process.memoryUsage.rss();
    const rss = new RssPeak(java).start();
    // BENCH_COB_JFR=<file>: a Java Flight Recording of the wire server during the close (`jfr print` reads it).
    const jfr = process.env.BENCH_COB_JFR && java ? `${process.env.BENCH_COB_JFR}.${size}.jfr` : null;
    if (jfr) execFileSync("jcmd", [String(java), "JFR.start", "name=cob", "settings=profile", `filename=${jfr}`], { stdio: "ignore" });
    const [node0, java0, gc0] = [nodeCpu(), procCpuSeconds(java), javaGcSeconds(java)];
    t = Date.now();
    const r: any = await broker.call("loans.closeOfBusiness", { business_date: BOOK_CLOSE_DATE }, { timeout: 4 * 3600_000 });
    const closeS = (Date.now() - t) / 1000;
    const [nodeS, javaS, gc1] = [nodeCpu() - node0, procCpuSeconds(java) - java0, javaGcSeconds(java)];
    if (jfr) execFileSync("jcmd", [String(java), "JFR.stop", "name=cob"], { stdio: "ignore" });
    // Young and full collections stop the server (pause time); concurrent cycles run beside it.
    if (gc0 && gc1) console.log(`  java GC during the close: young ${fmt(gc1.young - gc0.young, 2)} s, full ${fmt(gc1.full - gc0.full, 2)} s, concurrent ${fmt(gc1.concurrent - gc0.concurrent, 2)} s (pause and cycle times, not CPU)`);
    const peak = rss.stop();
    const loadAfterClose = os.loadavg()[0];
    if (peak.atPeak) {
      const a = peak.atPeak;
      console.log(`  node at its peak RSS ${mb(a.rss)} MB: V8 heap ${mb(a.heapTotal)} MB reserved, ${mb(a.heapUsed)} MB used; external ${mb(a.external)} MB (array buffers ${mb(a.arrayBuffers)} MB)`);
    }
    const heapClosed = javaLiveHeapMb(java);
    const heapAfter = liveHeap();
    await storedReport(db, size, "after the close");
    console.log(`  node live heap (after a full collection): ${mb(heapBefore)} MB before the close (the book was built in this process), ${mb(heapAfter)} MB after; RSS at the start of the close ${mb(rssAtStart)} MB`);
    // Without a TRANSPORTER the durable bus is the in-process stand-in for JetStream: it keeps the
    // published events (the stream) in this process — here, the close's batch events.
    const retained: { events: number; bytes: number } | undefined = (broker.getLocalService("loans") as any)?.durable?.bus?.retention?.();
    if (retained) console.log(`  in-process bus (the JetStream stand-in) retains ${retained.events} events, ${mb(retained.bytes)} MB of JSON (budget DURABLE_BUS_MAX_BYTES)`);
    if (heapBuilt !== null) console.log(`  java live heap: ${heapBuilt} MB after the build (${fmt((heapBuilt * 1024) / size, 1)} KB/loan), ${heapClosed} MB after the close (${fmt(((heapClosed ?? NaN) * 1024) / size, 1)} KB/loan)`);
    console.log(`  closed in ${fmt(closeS)} s (node CPU ${fmt(nodeS)} s, java CPU ${fmt(javaS)} s); raw driver pass at ${new Date().toISOString()}…`);
    if (opCounts.size) {
      console.log(`  operations: ${[...opCounts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(", ")}`);
      const size = (d: unknown) => (d ? BSON.calculateObjectSize(d as any) : 0);
      const loan = await db.collection("loans").findOne({ status: "active" });
      const batch = await db.collection("loans_outbox").findOne({ subject: "loan.close.batch" });
      const chunk = await db.collection("loan_close_chunks").findOne({});
      console.log(`  sizes: a loan ${size(loan)} B, a batch event ${size(batch)} B, a chunk record ${size(chunk)} B`);
    }
    const raw0 = [nodeCpu(), procCpuSeconds(java)];
    const rawS = await rawDriverPass(db, false);
    const rawCpu = { node: nodeCpu() - raw0[0], java: procCpuSeconds(java) - raw0[1] };
    const guardedS = process.env.BENCH_COB_GUARDED === "0" ? NaN : await rawDriverPass(db, true);
    return { size, mix, buildS, closeS, nodeS, javaS, rawS, rawCpu, guardedS, peak, loadAfterClose, counts: r.counts };
  } finally {
    await db.dropDatabase().catch(() => undefined);
    await client.close();
    await broker.stop();
  }
}

async function main() {
  // The loans service runs in this process: with the collector settings a deployed node starts with.
  if (readConfig().gcTuning) tuneGarbageCollector();
  // mongo-java-server keeps every document as Java objects: ~34 KB of heap per loan of this book
  // (the loan and its schedule), plus the close's batch events in the outbox. The JVM's default
  // ceiling (a quarter of memory) is too small for 200,000 loans: unless told otherwise, the heap
  // may grow to what the largest book needs.
  process.env.MONGO_WIRE_JAVA_OPTS ??= `-Xmx${Math.max(4, Math.ceil((Math.max(...SIZES) * 50) / 1024 / 1024))}g`;
  const server = await startJavaWireServer();
  console.log(
    `close of business over ${SIZES.map((s) => s.toLocaleString("en-US")).join(" and ")} loans, mix ${MIX_NAMES.join(" and ")}; chunk ${CHUNK}, ${UNITS} units, ${CONCURRENCY} at a time; ` +
      `${os.cpus().length} cores, load ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}; java ${[...WIRE_SERVER_JVM_DEFAULTS, process.env.MONGO_WIRE_JAVA_OPTS].join(" ")}`,
  );
  const results: Awaited<ReturnType<typeof benchSize>>[] = [];
  try {
    for (const mix of MIX_NAMES) {
      for (const size of SIZES) {
        const r = await benchSize(server.url, size, mix);
        results.push(r);
        const c = r.counts;
        console.log(
          `${size.toLocaleString("en-US").padStart(9)} loans, ${mix}: close ${fmt(r.closeS)} s (${fmt(c.loans / r.closeS, 0)} loans/s; ${c.loans} open closed: ${c.late_fees} late fees, ${c.rate_changes} rate changes, ${c.charged_off} charge-offs, ${c.status_changes} status changes, ${c.inline} inline, ${c.errors} errors); ` +
            `CPU node ${fmt(r.nodeS)} s + java ${fmt(r.javaS)} s (${fmt((1000 * r.nodeS) / c.loans, 2)} + ${fmt((1000 * r.javaS) / c.loans, 2)} ms/loan); peak RSS node ${mb(r.peak.node)} MB, java ${mb(r.peak.java)} MB; ` +
            `raw driver ${fmt(r.rawS)} s (CPU node ${fmt(r.rawCpu.node)} + java ${fmt(r.rawCpu.java)} s) → ${fmt(r.closeS / r.rawS, 2)}x (version-guarded raw ${fmt(r.guardedS)} s → ${fmt(r.closeS / r.guardedS, 2)}x); build ${fmt(r.buildS)} s; load ${r.loadAfterClose.toFixed(1)}`,
        );
      }
      const mine = results.filter((r) => r.mix === mix);
      for (let i = 1; i < mine.length; i++) {
        const [a, b] = [mine[i - 1], mine[i]];
        const ratio = b.closeS / a.closeS;
        console.log(`${mix} ${b.size}/${a.size}: close time ratio ${fmt(ratio, 2)} (target ≤ 2.2 for 2x); CPU ratio ${fmt((b.nodeS + b.javaS) / (a.nodeS + a.javaS), 2)}; raw ${fmt(b.rawS / a.rawS, 2)}, guarded raw ${fmt(b.guardedS / a.guardedS, 2)}; peak RSS node ${mb(a.peak.node)} → ${mb(b.peak.node)} MB, java ${mb(a.peak.java)} → ${mb(b.peak.java)} MB`);
        const perLoan = b.closeS / b.counts.loans;
        console.log(`${mix}: 1,000,000 loans at the ${b.size.toLocaleString("en-US")} rate: ~${fmt((perLoan * 1_000_000) / 60, 1)} min (target ≤ 10)`);
      }
    }
  } finally {
    await server.stop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
