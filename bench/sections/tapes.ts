/**
 * Loan tape bench (issue 12 point 8): a 100,000-loan tape, CSV and XLSX (every catalogue field,
 * three cash flows per loan on the Payments sheet), two ways:
 * - the service's own writers into a sink that hashes what it receives (SHA-256, as the chunk store
 *   does), the loans arriving as the service reads them: pages of at most PAGE_BYTES of JSON, each
 *   parsed, counted into the totals on the way. Each format runs in a process of its own started
 *   as the tapes process is deployed (TAPES_NODE_FLAGS), XLSX once more with Node's defaults; peak
 *   RSS above the idle process, with the peaks of heapUsed, external and arrayBuffers sampled.
 * - the whole run through the services (serviceRun): tapes and snapshots processes over NATS, on
 *   mongo-java-server, the file into the chunk store, the mail dropped; the tapes process's peak.
 * Targets: XLSX ≤ 15 s and ≤ 256 MB, CSV ≤ 5 s. Run: npm run bench -- tapes  (TAPE_BENCH_LOANS=n,
 * TAPE_BENCH_COLUMNS=default for the 12 default columns, TAPE_BENCH_SERVICE=0 to skip the services)
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ServiceBroker } from "moleculer";
import { MongoClient } from "mongodb";
import { startJavaWireServer } from "../../shared/runtime/mongo-server";
import { startNats } from "../../test/support/nats";
import { startNodeProcess, type NodeProcess } from "../lib/system-process";
import { Writable } from "node:stream";
import { TAPE_FIELDS, type TapeLoan } from "../../shared/tapes/catalogue";
import { tapeColumns } from "../../shared/tapes/layouts";
import { reconcile, TotalsAccumulator } from "../../shared/tapes/reconcile";
import { writeCsv, writeXlsx, type TapeContent } from "../../services/tapes/writers";
import { counted, PAGE_BYTES } from "../../services/tapes/source";

const N = Number(process.env.TAPE_BENCH_LOANS ?? 100_000);
/** How k8s/app/tapes.yaml and docker-compose.yml start the tapes process (NODE_OPTIONS). */
const TAPES_NODE_FLAGS = ["--max-semi-space-size=8"];
const MB = 1024 * 1024;
const rssMb = () => process.memoryUsage().rss / MB;
const peakMb = () => (process.resourceUsage().maxRSS * 1024) / MB;
const fmt = (x: number, d = 1) => x.toFixed(d);

const idle = rssMb();

/** Cents as a decimal string, by integer arithmetic. */
const cents = (c: number) => `${Math.floor(c / 100)}.${String(c % 100).padStart(2, "0")}`;

/**
 * Loan i as the snapshot row's JSON, written directly (the bench's own cost of making the pages
 * stays small beside the parse, which the service pays on every page it receives).
 */
function loanJson(i: number): string {
  const program_type = (["installment", "lease", "line_of_credit"] as const)[i % 3];
  const principalCents = (1000 + (i % 5000) * 7) * 100;
  const principal = cents(principalCents);
  const balance = cents((principalCents * 6) / 10);
  const month = String(1 + (i % 12)).padStart(2, "0");
  const id = `6600${String(i).padStart(20, "0")}`;
  const variable = i % 4 === 0;
  const late = i % 50 === 0;
  return (
    `{"loan_id":"${id}","version":5,"attributes":{"loan_id":"${id}","external_id":${i % 2 ? `"EXT-${i}"` : "null"},"product_id":"p1","program_id":"g1",` +
    `"program_type":"${program_type}","interest_rate_type":"${variable ? "variable" : "fixed"}","origination_date":"2025-${month}-15","vintage":"2025-${month}",` +
    `"principal":"${principal}","annual_rate":"0.0725","term_months":36,"maturity_date":${program_type === "line_of_credit" ? "null" : `"2028-${month}-15"`},` +
    `"index_name":${variable ? '"SOFR"' : "null"},"margin":${variable ? '"0.0300"' : "null"},"region":"US-NY","credit_score":${600 + (i % 250)},"currency":"USD"},` +
    `"state":{"status":"${late ? "delinquent" : "active"}","principal_balance":"${balance}","interest_receivable":"12.34","fees_due":"0.00","deferred_interest":"0.00",` +
    `"credit_balance":"0.00","past_due_amount":"${late ? "120.00" : "0.00"}","days_past_due":${late ? 35 : 0},"bucket":"${late ? "30_59" : "current"}",` +
    `"next_due_date":"2026-12-15","next_payment_amount":"120.00","total_disbursed":"${principal}","total_collected":"360.00","as_of":"2026-11-30",` +
    `"closed_through":"2026-11-30","portfolio_id":"pf1","investor_id":null},` +
    `"cash_flows":[{"tx_id":"${id}-1","date":"2025-${month}-15","amount":"-${principal}","type":"disbursement"},` +
    `{"tx_id":"${id}-2","date":"2026-09-15","amount":"180.00","type":"payment","prepaid_principal":"0.00"},` +
    `{"tx_id":"${id}-3","date":"2026-10-15","amount":"180.00","type":"payment","prepaid_principal":"${i % 10 ? "0.00" : "60.00"}"}]}`
  );
}

/** The loans as the service receives them: pages of at most PAGE_BYTES of JSON, parsed. */
async function* pagesOf(n: number): AsyncGenerator<TapeLoan[]> {
  let page: string[] = [];
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const json = loanJson(i);
    if (page.length && bytes + json.length > PAGE_BYTES) {
      yield JSON.parse(`[${page.join(",")}]`);
      page = [];
      bytes = 0;
    }
    page.push(json);
    bytes += json.length + 1;
  }
  if (page.length) yield JSON.parse(`[${page.join(",")}]`);
}

class HashSink extends Writable {
  readonly hash = createHash("sha256");
  bytes = 0;
  override _write(chunk: Buffer, _e: BufferEncoding, cb: () => void) {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb();
  }
}

/** Peaks of what memoryUsage() reports, sampled every 100 ms while the writer runs. */
function sampler() {
  const peak = { heapUsed: 0, external: 0, arrayBuffers: 0 };
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
    peak.external = Math.max(peak.external, m.external);
    peak.arrayBuffers = Math.max(peak.arrayBuffers, m.arrayBuffers);
  }, 100);
  return { stop: () => (clearInterval(timer), peak) };
}

async function runOne(format: "CSV" | "XLSX") {
  const acc = new TotalsAccumulator();
  const content: TapeContent = {
    // TAPE_BENCH_COLUMNS=default: the 12 columns of a config that names none; otherwise all of them.
    columns: tapeColumns(process.env.TAPE_BENCH_COLUMNS === "default" ? {} : { required_fields: TAPE_FIELDS.map((f) => f.code) }),
    pages: counted(pagesOf(N), acc),
    ctx: { portfolio_id: "pf1", business_date: "2026-11-30" },
    summary: () => {
      const totals = acc.result();
      // The bench has no stored snapshot: it reconciles with its own figures.
      return { totals, reconciliation: reconcile(totals, { loan_count: N, total_balance: totals.total_balance }) };
    },
    title: "bench",
  };
  const target = format === "CSV" ? 5 : 15;
  const sink = new HashSink();
  const mem = sampler();
  const started = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  await (format === "CSV" ? writeCsv : writeXlsx)(content, sink);
  const s = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const peaks = mem.stop();
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const above = peakMb() - idle;
  // What the source side alone costs (generating, stringifying and parsing the pages), so the
  // writer's share can be told apart; it is inside the figures above. Measured after, so its
  // garbage never raises the peak.
  const src0 = process.cpuUsage();
  for await (const _page of pagesOf(N));
  const src = process.cpuUsage(src0);
  const sourceCpuS = (src.user + src.system) / 1e6;
  const totals = acc.result();
  const ok = totals.loan_count === N && s <= target && (format === "CSV" || above <= 256);
  console.log(
    `${format.padEnd(4)} ${fmt(s, 2)} s (target ≤ ${target} s; ${fmt(cpuS, 2)} s of CPU, ${fmt((cpuS * 1e6) / N, 1)} µs a loan, of which the bench's page source ${fmt(sourceCpuS, 2)} s), ${fmt(sink.bytes / MB)} MB file, ` +
      `sha256 ${sink.hash.digest("hex").slice(0, 12)}…; peak RSS ${fmt(peakMb())} MB = ${fmt(above)} MB above idle (${fmt(idle)} MB)` +
      `${format === "XLSX" ? " (target ≤ 256 MB)" : ""}; peak heapUsed ${fmt(peaks.heapUsed / MB)} MB, external ${fmt(peaks.external / MB)} MB, ` +
      `arrayBuffers ${fmt(peaks.arrayBuffers / MB)} MB; ${totals.loan_count} loans, ${totals.payment_rows} payment rows — ${ok ? "within target" : "OVER TARGET"}`,
  );
  if (!ok) process.exitCode = 1;
}

/** VmRSS / VmHWM of a process, in MB, and its CPU seconds (utime + stime) from /proc. */
function procMemory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  return { rss: kb("VmRSS") / 1024, hwm: kb("VmHWM") / 1024 };
}
function procCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** This process's child whose command is `name` (the MongoDB wire server's JVM). */
function childPidNamed(name: string): number | null {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (comm === name && ppid === process.pid) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return null;
}

/**
 * The whole run as deployed: a tapes process and a snapshots process (bin/start.ts each) over a
 * `nats-server -js`, on mongo-java-server. The snapshot of 100,000 loans is stored as the snapshots
 * service stores one (its row chunks); a daily XLSX config of every field; `tapes.runDue` then
 * reads the pages over NATS, writes the file into the chunk store and drops the mail (.eml). The
 * tapes process's peak RSS (VmHWM, reset once it is up) above its idle RSS is the figure.
 */
async function serviceRun() {
  const mongo = await startJavaWireServer();
  const nats = await startNats({ jetstream: true });
  const mongoUrl = `${mongo.url.replace(/\/$/, "")}/bench_tapes`;
  const dropDir = await mkdtemp(join(tmpdir(), "tape-bench-drop-"));
  const nodes: NodeProcess[] = [];
  const client = new MongoClient(mongoUrl);
  let broker: ServiceBroker | null = null;
  try {
    await client.connect();
    const db = client.db();
    const portfolio_id = "64b000000000000000000001";
    const business_date = "2026-11-30";
    const snapshotId = `${portfolio_id}:${business_date}`;
    const acc = new TotalsAccumulator();
    const ROWS = 500;
    const seed0 = process.hrtime.bigint();
    for (let i = 0, n = 0; i < N; n++) {
      const docs = [];
      for (let c = 0; c < 20 && i < N; c++, n++) {
        const rows: string[] = [];
        for (let k = 0; k < ROWS && i < N; k++, i++) {
          const json = loanJson(i);
          acc.add(JSON.parse(json));
          rows.push(json);
        }
        docs.push({ _id: `${snapshotId}:bench:${n}`, rows_json: `[${rows.join(",")}]` });
      }
      n--;
      await db.collection<any>("snapshot_rows").insertMany(docs, { ordered: false });
    }
    const totals = acc.result();
    await db.collection<any>("snapshots").insertOne({
      _id: snapshotId, portfolio_id, business_date, kind: "daily", loan_count: totals.loan_count, total_balance: totals.total_balance,
      rows_token: "bench", row_chunks: Math.ceil(N / ROWS), taken_at: new Date().toISOString(),
    });
    await db.collection<any>("tape_configs").insertOne({
      name: "Bench tape", portfolio_id, tape_format: "xlsx", tape_schedule: "daily", required_fields: TAPE_FIELDS.map((f) => f.code),
      recipient_email: ["bench@fund.example"], version: 1, created_at: new Date(), updated_at: new Date(),
    });
    const seedS = Number(process.hrtime.bigint() - seed0) / 1e9;

    const env = { TRANSPORTER: nats.url, MONGO_URL: mongoUrl, PORT: "0" };
    const [snapshots, tapes] = await Promise.all([
      startNodeProcess("bench-snapshots", { ...env, SERVICES: "snapshots" }),
      startNodeProcess("bench-tapes", { ...env, SERVICES: "tapes", MAIL_DROP_DIR: dropDir, NODE_OPTIONS: TAPES_NODE_FLAGS.join(" ") }),
    ]);
    nodes.push(snapshots, tapes);
    broker = new ServiceBroker({ nodeID: `tape-bench-${process.pid}`, transporter: { type: "NATS", options: { url: nats.url } }, logLevel: "warn", requestTimeout: 0 });
    await broker.start();
    await broker.waitForServices(["tapes", "snapshots"], 60_000);
    if (global.gc) global.gc();
    await new Promise((r) => setTimeout(r, 2000));
    const tapesPid = tapes.child.pid!;
    // The peak of the startup (tsx compiling the services) is not the run's: reset VmHWM.
    writeFileSync(`/proc/${tapesPid}/clear_refs`, "5");
    const idleTapes = procMemory(tapesPid).rss;
    const javaPid = childPidNamed("java");
    const cpu0 = { tapes: procCpuSeconds(tapesPid), snapshots: procCpuSeconds(snapshots.child.pid!), java: javaPid ? procCpuSeconds(javaPid) : 0 };
    const t0 = process.hrtime.bigint();
    // The tapes process's RSS over the run, split where the file is stored (then the mail is sent).
    const phases = { file: 0, mail: 0 };
    let filed = false;
    const watch = setInterval(() => {
      const rss = procMemory(tapesPid).rss;
      if (filed) phases.mail = Math.max(phases.mail, rss);
      else phases.file = Math.max(phases.file, rss);
      void db.collection("tape_runs").findOne({ file: { $exists: true } }).then((d) => (filed ||= !!d), () => undefined);
    }, 250);
    const counts: any = await broker.call("tapes.runDue", { business_date }, { timeout: 0 }).finally(() => clearInterval(watch));
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    const peak = procMemory(tapesPid).hwm;
    const cpu = { tapes: procCpuSeconds(tapesPid) - cpu0.tapes, snapshots: procCpuSeconds(snapshots.child.pid!) - cpu0.snapshots, java: javaPid ? procCpuSeconds(javaPid) - cpu0.java : 0 };
    const run: any = await db.collection("tape_runs").findOne({});
    const above = peak - idleTapes;
    const ok = run?.status === "completed" && s <= 15 && above <= 256;
    console.log(
      `XLSX through the services (seeded in ${fmt(seedS)} s): ${fmt(s, 2)} s, run ${run?.status}${run?.error ? ` (${run.failed_stage}: ${run.error})` : ""}, ${counts.completed} completed; ` +
        `${fmt((run?.file?.size ?? 0) / MB)} MB file in ${run?.file?.chunks ?? 0} chunks, mail dropped; CPU: tapes ${fmt(cpu.tapes, 2)} s, snapshots ${fmt(cpu.snapshots, 2)} s, MongoDB (Java) ${fmt(cpu.java, 2)} s; ` +
        `tapes process peak RSS ${fmt(peak)} MB = ${fmt(above)} MB above its idle ${fmt(idleTapes)} MB (target ≤ 256 MB; sampled: writing the file ${fmt(phases.file - idleTapes)} MB, mailing it ${phases.mail ? `${fmt(phases.mail - idleTapes)} MB` : "too quick to sample"}) — ${ok ? "within target" : "OVER TARGET"}; load ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`,
    );
    if (!ok) process.exitCode = 1;
  } finally {
    await broker?.stop();
    for (const node of nodes) await node.stop();
    await client.close();
    await nats.stop();
    await mongo.stop();
    await rm(dropDir, { recursive: true, force: true });
  }
}

async function main() {
  const only = process.env.TAPE_BENCH_FORMAT as "CSV" | "XLSX" | "SERVICE" | undefined;
  if (only === "SERVICE") return serviceRun();
  if (only) return runOne(only);
  const columns = process.env.TAPE_BENCH_COLUMNS === "default" ? 12 : TAPE_FIELDS.length;
  console.log(`${N.toLocaleString("en-US")} loans × ${columns} columns, ${(N * 3).toLocaleString("en-US")} payment rows, pages of ≤ ${PAGE_BYTES / 1024} KB; load average ${readFileSync("/proc/loadavg", "utf8").trim()}`);
  let failed = false;
  // Each format in a process of its own (a peak RSS is a high-water mark), started as the tapes
  // process is deployed; XLSX once more with Node's defaults, for comparison.
  // TAPE_BENCH_SERVICE=0 skips the run through the services (it seeds MongoDB first).
  const runs: [string, string[]][] = [["CSV", TAPES_NODE_FLAGS], ["XLSX", TAPES_NODE_FLAGS], ["XLSX", []]];
  if (process.env.TAPE_BENCH_SERVICE !== "0") runs.push(["SERVICE", []]);
  for (const [format, flags] of runs) {
    if (format !== "SERVICE") process.stdout.write(flags.length ? `[${flags.join(" ")}] ` : "[node defaults] ");
    const r = spawnSync(process.execPath, [...flags, ...process.execArgv, __filename], { stdio: "inherit", env: { ...process.env, TAPE_BENCH_FORMAT: format } });
    failed ||= r.status !== 0 && flags.length > 0;
  }
  if (failed) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
