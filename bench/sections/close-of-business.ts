/**
 * Close-of-business bench (issue 9 point 8): a book of 100,000 and 200,000 loans on the embedded
 * MongoDB wire server, closed for one business date by `loans.closeOfBusiness` in a broker without
 * the gateway. Per size: seconds, loans/s, peak RSS during the close; then, in the same run, the
 * raw MongoDB driver reading the same documents with the same cursors and bulk-writing the same
 * fields back in chunks of the same size — the floor — and the ratio to it.
 *
 * The book: seven template loans booked through the service's actions (current, late, charged
 * off, variable with resets, within grace, paid off), cloned in the MIX below with new ids and
 * partitions, their schedules too (test/support/loan-book.ts). The close is the first one of
 * these loans, so it catches up every late fee and reset since disbursement.
 *
 * Run: npm run bench -- close-of-business   (BENCH_COB_SIZES=10000,20000 for a quick look;
 * LOANS_CLOSE_CHUNK, LOANS_CLOSE_UNITS as for the service)
 */
import { MongoClient, type Db } from "mongodb";
import mongoose from "mongoose";
import { ServiceBroker } from "moleculer";
import os from "node:os";
import { brokerOptions } from "../../moleculer.config";
import { readConfig } from "../../shared/config";
import { SERVICE_SCHEMAS } from "../../services";
import { startJavaWireServer } from "../../shared/runtime/mongo-server";
import { PARTITIONS } from "../../shared/loans/origination";
import { uniqueDbUrl } from "../../test/support/mongo";
import { BOOK_CLOSE_DATE, bookTemplates, cloneTemplates } from "../../test/support/loan-book";

const SIZES = (process.env.BENCH_COB_SIZES ?? "100000,200000").split(",").map(Number);
const CHUNK = Number(process.env.LOANS_CLOSE_CHUNK ?? 500);
const UNITS = Number(process.env.LOANS_CLOSE_UNITS ?? 8);
/**
 * A day's book, per 20 loans (bookTemplates' order): 13 current, 2 within grace, 1 variable and
 * paid up (a reset on the date), 1 late, 1 variable and late (resets and fees), 1 past the
 * charge-off threshold, 1 paid off (skipped). A fifth of the open loans have side writes.
 */
const MIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 5, 3, 1, 4, 2, 6];
const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
const fmt = (x: number, d = 1) => x.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });

/** Peak resident set size of this process between start() and stop(). */
class RssPeak {
  private peak = 0;
  private timer?: NodeJS.Timeout;
  start() {
    this.peak = process.memoryUsage.rss();
    this.timer = setInterval(() => (this.peak = Math.max(this.peak, process.memoryUsage.rss())), 100);
    return this;
  }
  stop() {
    clearInterval(this.timer);
    return Math.max(this.peak, process.memoryUsage.rss());
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

/** BENCH_COB_OPS=1: counts the close's MongoDB operations per collection and method. */
const opCounts = new Map<string, number>();
if (process.env.BENCH_COB_OPS) {
  mongoose.set("debug", (collection: string, method: string) => {
    const k = `${collection}.${method}`;
    opCounts.set(k, (opCounts.get(k) ?? 0) + 1);
  });
}

async function benchSize(baseUrl: string, size: number) {
  // The wire server answers nothing while it runs a long command: on a loaded machine the
  // driver's 30 s monitor timeout would drop the pool mid-close.
  const url = uniqueDbUrl(`${baseUrl}?connectTimeoutMS=600000&socketTimeoutMS=0&serverSelectionTimeoutMS=600000`, `cob_bench_${size}`);
  const broker = new ServiceBroker({ ...brokerOptions({ ...readConfig({}), logLevel: "warn" }, { mongoUrl: url }), nodeID: `bench-cob-${size}`, skipProcessEventRegistration: true });
  for (const name of ["programs", "rates", "loans"] as const) {
    const settings = name === "loans" ? { close: { units: UNITS, chunkSize: CHUNK, leaseMs: 120_000 } } : {};
    broker.createService({ mixins: [SERVICE_SCHEMAS[name]], settings } as any);
  }
  await broker.start();
  const client = await MongoClient.connect(url);
  const db = client.db(new URL(url).pathname.slice(1));
  try {
    let t = Date.now();
    const templates = await bookTemplates((action, params) => broker.call(action, params, { timeout: 60_000 }));
    await cloneTemplates(db, templates, size - templates.length, { ledger: false, batch: 1000, mix: MIX });
    const buildS = (Date.now() - t) / 1000;
    console.log(`  ${size.toLocaleString("en-US")} loans built in ${fmt(buildS)} s; closing ${BOOK_CLOSE_DATE}…`);
    if (global.gc) global.gc();
    opCounts.clear();
    const rss = new RssPeak().start();
    t = Date.now();
    const r: any = await broker.call("loans.closeOfBusiness", { business_date: BOOK_CLOSE_DATE }, { timeout: 4 * 3600_000 });
    const closeS = (Date.now() - t) / 1000;
    const peak = rss.stop();
    console.log(`  closed in ${fmt(closeS)} s; raw driver pass…`);
    if (opCounts.size) console.log(`  operations: ${[...opCounts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(", ")}`);
    const rawS = await rawDriverPass(db, false);
    const guardedS = process.env.BENCH_COB_GUARDED === "0" ? NaN : await rawDriverPass(db, true);
    return { size, buildS, closeS, rawS, guardedS, peak, counts: r.counts };
  } finally {
    await db.dropDatabase().catch(() => undefined);
    await client.close();
    await broker.stop();
  }
}

async function main() {
  const server = await startJavaWireServer();
  console.log(`close of business over ${SIZES.map((s) => s.toLocaleString("en-US")).join(" and ")} loans; chunk ${CHUNK}, ${UNITS} units; ${os.cpus().length} cores, load ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}`);
  const results: Awaited<ReturnType<typeof benchSize>>[] = [];
  try {
    for (const size of SIZES) {
      const r = await benchSize(server.url, size);
      results.push(r);
      const c = r.counts;
      console.log(
        `${size.toLocaleString("en-US").padStart(9)} loans: close ${fmt(r.closeS)} s (${fmt(c.loans / r.closeS, 0)} loans/s, ${c.loans} open closed: ${c.late_fees} late fees, ${c.rate_changes} rate changes, ${c.charged_off} charge-offs), ` +
          `peak RSS ${mb(r.peak)} MB; raw driver ${fmt(r.rawS)} s → ${fmt(r.closeS / r.rawS, 2)}x (version-guarded raw ${fmt(r.guardedS)} s → ${fmt(r.closeS / r.guardedS, 2)}x); build ${fmt(r.buildS)} s; load ${os.loadavg()[0].toFixed(1)}`,
      );
    }
    if (results.length >= 2) {
      const [a, b] = [results[0], results[results.length - 1]];
      const ratio = b.closeS / a.closeS;
      console.log(`${b.size}/${a.size}: close time ratio ${fmt(ratio, 2)} (target ≤ 2.2 for 2x); raw ${fmt(b.rawS / a.rawS, 2)}, guarded raw ${fmt(b.guardedS / a.guardedS, 2)}; peak RSS ${mb(a.peak)} → ${mb(b.peak)} MB`);
      const perLoan = b.closeS / b.counts.loans;
      console.log(`1,000,000 loans at the ${b.size.toLocaleString("en-US")} rate: ~${fmt((perLoan * 1_000_000) / 60, 1)} min (target ≤ 10)`);
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
