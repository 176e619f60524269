/**
 * Loan tape bench (issue 12 point 8): a 100,000-loan tape written as CSV and as XLSX (every
 * catalogue field, three cash flows per loan on the Payments sheet) by the service's own writers
 * into a sink that hashes what it receives (SHA-256, as the chunk store does; no database write,
 * so the figures are the writers'). The loans arrive as the service reads them: pages of at most
 * PAGE_BYTES of JSON (each page parsed from its JSON, as off the wire), counted into the totals on
 * the way, so the figure includes the source side. Each format runs in its own process, so each
 * peak RSS is its own; reported above the idle process, with the peaks of heapUsed, external and
 * arrayBuffers sampled during the run (TAPE_BENCH_COLUMNS=default: the 12 default columns).
 * Targets: XLSX ≤ 15 s and ≤ 256 MB, CSV ≤ 5 s. Run: npm run bench -- tapes  (TAPE_BENCH_LOANS=n)
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { Writable } from "node:stream";
import Decimal from "decimal.js";
import { TAPE_FIELDS, type TapeLoan } from "../../shared/tapes/catalogue";
import { tapeColumns } from "../../shared/tapes/layouts";
import { reconcile, TotalsAccumulator } from "../../shared/tapes/reconcile";
import { writeCsv, writeXlsx, type TapeContent } from "../../services/tapes/writers";
import { counted, PAGE_BYTES } from "../../services/tapes/source";

const N = Number(process.env.TAPE_BENCH_LOANS ?? 100_000);
const MB = 1024 * 1024;
const rssMb = () => process.memoryUsage().rss / MB;
const peakMb = () => (process.resourceUsage().maxRSS * 1024) / MB;
const fmt = (x: number, d = 1) => x.toFixed(d);

const idle = rssMb();

function makeLoan(i: number): TapeLoan {
  const types = ["installment", "lease", "line_of_credit"] as const;
  {
    const program_type = types[i % 3];
    const principal = new Decimal(1000 + (i % 5000) * 7).toFixed(2);
    const balance = new Decimal(principal).times(0.6).toFixed(2);
    const month = String(1 + (i % 12)).padStart(2, "0");
    return {
      loan_id: `6600${String(i).padStart(20, "0")}`,
      version: 5,
      attributes: {
        loan_id: `6600${String(i).padStart(20, "0")}`, external_id: i % 2 ? `EXT-${i}` : null, product_id: "p1", program_id: "g1", program_type,
        interest_rate_type: i % 4 ? "fixed" : "variable", origination_date: `2025-${month}-15`, vintage: `2025-${month}`, principal,
        annual_rate: "0.0725", term_months: 36, maturity_date: program_type === "line_of_credit" ? null : `2028-${month}-15`,
        index_name: i % 4 ? null : "SOFR", margin: i % 4 ? null : "0.0300", region: "US-NY", credit_score: 600 + (i % 250), currency: "USD",
      },
      state: {
        status: i % 50 ? "active" : "delinquent", principal_balance: balance, interest_receivable: "12.34", fees_due: "0.00", deferred_interest: "0.00",
        credit_balance: "0.00", past_due_amount: i % 50 ? "0.00" : "120.00", days_past_due: i % 50 ? 0 : 35, bucket: i % 50 ? "current" : "30_59",
        next_due_date: "2026-12-15", next_payment_amount: "120.00", total_disbursed: principal, total_collected: "360.00", as_of: "2026-11-30",
        closed_through: "2026-11-30", portfolio_id: "pf1", investor_id: null,
      },
      cash_flows: [
        { date: `2025-${month}-15`, amount: `-${principal}`, type: "disbursement" },
        { date: "2026-09-15", amount: "180.00", type: "payment" },
        { date: "2026-10-15", amount: "180.00", type: "payment", prepaid_principal: i % 10 ? undefined : "60.00" },
      ],
    };
  }
}

/** The loans as the service receives them: pages of at most PAGE_BYTES of JSON, parsed. */
async function* pagesOf(n: number): AsyncGenerator<TapeLoan[]> {
  let page: string[] = [];
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const json = JSON.stringify(makeLoan(i));
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

/** Peaks of what memoryUsage() reports, sampled every 20 ms while the writer runs. */
function sampler() {
  const peak = { heapUsed: 0, external: 0, arrayBuffers: 0 };
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
    peak.external = Math.max(peak.external, m.external);
    peak.arrayBuffers = Math.max(peak.arrayBuffers, m.arrayBuffers);
  }, 20);
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
  const totals = acc.result();
  const ok = totals.loan_count === N && s <= target && (format === "CSV" || above <= 256);
  console.log(
    `${format.padEnd(4)} ${fmt(s, 2)} s (target ≤ ${target} s; ${fmt(cpuS, 2)} s of CPU, ${fmt((cpuS * 1e6) / N, 1)} µs of CPU a loan), ${fmt(sink.bytes / MB)} MB file, ` +
      `sha256 ${sink.hash.digest("hex").slice(0, 12)}…; peak RSS ${fmt(peakMb())} MB = ${fmt(above)} MB above idle (${fmt(idle)} MB)` +
      `${format === "XLSX" ? " (target ≤ 256 MB)" : ""}; peak heapUsed ${fmt(peaks.heapUsed / MB)} MB, external ${fmt(peaks.external / MB)} MB, ` +
      `arrayBuffers ${fmt(peaks.arrayBuffers / MB)} MB; ${totals.loan_count} loans, ${totals.payment_rows} payment rows — ${ok ? "within target" : "OVER TARGET"}`,
  );
  if (!ok) process.exitCode = 1;
}

async function main() {
  const only = process.env.TAPE_BENCH_FORMAT as "CSV" | "XLSX" | undefined;
  if (only) return runOne(only);
  const columns = process.env.TAPE_BENCH_COLUMNS === "default" ? 12 : TAPE_FIELDS.length;
  console.log(`${N.toLocaleString("en-US")} loans × ${columns} columns, ${(N * 3).toLocaleString("en-US")} payment rows, pages of ≤ ${PAGE_BYTES / 1024} KB; load average ${readFileSync("/proc/loadavg", "utf8").trim()}`);
  let failed = false;
  // Each format in a process of its own: a peak RSS is a high-water mark.
  for (const format of ["CSV", "XLSX"]) {
    const r = spawnSync(process.execPath, [...process.execArgv, __filename], { stdio: "inherit", env: { ...process.env, TAPE_BENCH_FORMAT: format } });
    failed ||= r.status !== 0;
  }
  if (failed) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
