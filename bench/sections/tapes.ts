/**
 * Loan tape bench (issue 12 point 8): a 100,000-loan tape written as CSV and as XLSX (every
 * catalogue field, three cash flows per loan on the Payments sheet) by the service's own writers
 * into a sink that hashes what it receives (SHA-256, as the chunk store does; no database write,
 * so the figures are the writers'). Reports seconds and peak RSS above the process with the
 * 100,000 loans already in memory (what `snapshots.portfolioLoans` hands the service) and above
 * the idle process (TAPE_BENCH_COLUMNS=default: the 12 default columns). CSV runs first: RSS peak is a high-water mark, and XLSX is the bigger one.
 * Targets: XLSX ≤ 15 s and ≤ 256 MB, CSV ≤ 5 s. Run: npm run bench -- tapes  (TAPE_BENCH_LOANS=n)
 */
import { createHash } from "node:crypto";
import { Writable } from "node:stream";
import Decimal from "decimal.js";
import { TAPE_FIELDS, type TapeLoan } from "../../shared/tapes/catalogue";
import { tapeColumns } from "../../shared/tapes/layouts";
import { reconcile, TotalsAccumulator } from "../../shared/tapes/reconcile";
import { writeCsv, writeXlsx, type TapeContent } from "../../services/tapes/writers";

const N = Number(process.env.TAPE_BENCH_LOANS ?? 100_000);
const MB = 1024 * 1024;
const rssMb = () => process.memoryUsage().rss / MB;
const peakMb = () => (process.resourceUsage().maxRSS * 1024) / MB;
const fmt = (x: number, d = 1) => x.toFixed(d);

const idle = rssMb();

function makeLoans(n: number): TapeLoan[] {
  const loans: TapeLoan[] = [];
  const types = ["installment", "lease", "line_of_credit"] as const;
  for (let i = 0; i < n; i++) {
    const program_type = types[i % 3];
    const principal = new Decimal(1000 + (i % 5000) * 7).toFixed(2);
    const balance = new Decimal(principal).times(0.6).toFixed(2);
    const month = String(1 + (i % 12)).padStart(2, "0");
    loans.push({
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
        { date: "2026-10-15", amount: "180.00", type: "payment" },
      ],
    });
  }
  return loans;
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

async function main() {
  const loans = makeLoans(N);
  const acc = new TotalsAccumulator();
  for (const l of loans) acc.add(l);
  const totals = acc.result();
  const content: TapeContent = {
    // TAPE_BENCH_COLUMNS=default: the 12 columns of a config that names none; otherwise all of them.
    columns: tapeColumns(process.env.TAPE_BENCH_COLUMNS === "default" ? {} : { required_fields: TAPE_FIELDS.map((f) => f.code) }),
    loans, ctx: { portfolio_id: "pf1", business_date: "2026-11-30" }, totals,
    reconciliation: reconcile(totals, { loan_count: N, total_balance: totals.total_balance }), title: "bench",
  };
  if (global.gc) global.gc();
  const loaded = rssMb();
  console.log(`${N.toLocaleString("en-US")} loans × ${content.columns.length} columns, ${(N * 3).toLocaleString("en-US")} payment rows; idle RSS ${fmt(idle)} MB, with the loans in memory ${fmt(loaded)} MB`);
  const runs = [["CSV", writeCsv, 5, content], ["XLSX", writeXlsx, 15, content]] as const;
  for (const [format, write, target, body] of runs) {
    const sink = new HashSink();
    const started = process.hrtime.bigint();
    const cpu0 = process.cpuUsage();
    await write(body, sink);
    const s = Number(process.hrtime.bigint() - started) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    const cpuS = (cpu.user + cpu.system) / 1e6;
    const peak = peakMb();
    const verdict = s <= target && (format === "CSV" || peak - loaded <= 256) ? "within target" : "OVER TARGET";
    console.log(
      `${format.padEnd(4)} ${fmt(s, 2)} s (target ≤ ${target} s; ${fmt(cpuS, 2)} s of CPU), ${fmt(sink.bytes / MB)} MB file, sha256 ${sink.hash.digest("hex").slice(0, 12)}…; ` +
        `peak RSS ${fmt(peak)} MB = ${fmt(peak - loaded)} MB above the loaded process, ${fmt(peak - idle)} MB above idle${format === "XLSX" ? " (target ≤ 256 MB)" : ""} — ${verdict}`,
    );
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
