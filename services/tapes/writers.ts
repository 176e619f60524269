/**
 * The two tape formats (DESIGN.md §11), both streamed into a Writable (the chunk store):
 * - CSV: RFC 4180 through csv-stringify (CRLF records, quoting by the library), UTF-8, money as
 *   decimal strings exactly as computed.
 * - XLSX: exceljs's streaming WorkbookWriter; typed cells (money as numbers shown with two
 *   decimals, dates as dates, integers), a styled and frozen header, a Payments sheet with every
 *   cash flow, a Summary sheet with the totals and the reconciliation.
 * Both read the loans a page at a time and wait for their output, so memory does not grow with
 * the portfolio.
 */
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { createReadStream, createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { finished } from "node:stream/promises";
import type { Writable } from "node:stream";
import { stringify } from "csv-stringify";
import ExcelJS from "exceljs";
import Decimal from "decimal.js";
import type { TapeContext, TapeLoan } from "../../shared/tapes/catalogue";
import { cellValue, type TapeColumn } from "../../shared/tapes/layouts";
import type { Reconciliation, TapeTotals } from "../../shared/tapes/reconcile";

export interface TapeContent {
  columns: TapeColumn[];
  /** The member loans a page at a time, read once (a 100,000-loan tape never sits in memory whole). */
  pages: AsyncIterable<readonly TapeLoan[]>;
  ctx: TapeContext;
  /** The totals and the reconciliation, asked for once every page has been read (XLSX Summary sheet). */
  summary(): { totals: TapeTotals; reconciliation: Reconciliation };
  title: string;
}

export const CONTENT_TYPES = {
  csv: "text/csv; charset=utf-8",
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
} as const;

/** Rejects when a stream of the output side fails, so no wait for a drain outlives it. */
function failureOf(...streams: { once(event: "error", listener: (err: Error) => void): unknown }[]): Promise<never> {
  const failed = new Promise<never>((_resolve, reject) => {
    for (const stream of streams) stream.once("error", reject);
  });
  failed.catch(() => undefined);
  return failed;
}

export async function writeCsv(content: TapeContent, out: Writable): Promise<void> {
  const csv = stringify({ header: true, columns: content.columns.map((c) => c.header), record_delimiter: "windows", cast: { number: (n) => String(n) } });
  const failed = failureOf(out, csv);
  csv.pipe(out);
  for await (const page of content.pages) {
    for (const loan of page) {
      const row = content.columns.map((c) => cellValue(c, loan, content.ctx) ?? "");
      if (!csv.write(row)) await Promise.race([once(csv, "drain"), failed]);
    }
  }
  csv.end();
  await finished(out);
}

/**
 * exceljs commits each row's XML into the sheet's zip entry at once, and its entry stream
 * (StreamBuf) ignores the return value of the stream it writes to: nothing stops a fast loop from
 * queueing a whole sheet uncompressed ahead of the deflater (hundreds of MB for a 100,000-loan
 * tape on a busy CPU). So the writer watches that stream itself and, once more than
 * MAX_ZIP_BACKLOG is queued, waits for it to drain — which it does only as fast as the deflater,
 * the zip and the output (the chunk store) consume, so memory stays bounded end to end.
 */
const MAX_ZIP_BACKLOG = 4 * 1024 * 1024;
/**
 * Deflate runs on the thread pool, but each finished chunk is handed on (and the next one started)
 * by a callback on the event loop, which a loop that only awaits resolved promises never lets run:
 * the writer yields to it every YIELD_EVERY rows, so compression overlaps the writing.
 */
const YIELD_EVERY = 200;
const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Every YIELD_EVERY rows a pause for I/O; a wait for the zip when its backlog is over the mark. */
async function pace(n: number, sheet: ExcelJS.Worksheet, failed: Promise<never>): Promise<void> {
  if (n % YIELD_EVERY !== 0) return;
  await yieldToIo();
  const wait = zipBackpressure(sheet, failed);
  if (wait) await wait;
}

function zipBackpressure(sheet: ExcelJS.Worksheet, failed: Promise<never>): Promise<void> | null {
  // WorksheetWriter#stream is exceljs's StreamBuf; archiver piped it into a PassThrough of the
  // readable-stream package, which has no writableLength/writableNeedDrain getters: its state does.
  const entry = (sheet as any).stream?.pipes?.[0];
  const state = entry?._writableState as { length: number; needDrain: boolean } | undefined;
  if (!state || !state.needDrain || state.length < MAX_ZIP_BACKLOG) return null;
  return Promise.race([once(entry, "drain").then(() => undefined), failed]);
}

/**
 * The Payments sheet follows the Tape sheet in the zip, so its rows cannot be written while the
 * tape's are (they would queue in memory behind it) and the pages are read once: each cash flow is
 * spooled to a temporary file as a tab-separated line while the tape is written, then read back.
 * (Ids, ISO dates, type codes and decimal strings hold no tab or newline.)
 */
class PaymentSpool {
  readonly path = join(tmpdir(), `tape-payments-${randomUUID()}.tsv`);
  private readonly file = createWriteStream(this.path);

  async add(loan: TapeLoan): Promise<void> {
    for (const f of loan.cash_flows ?? []) {
      if (!this.file.write(`${loan.loan_id}\t${f.date}\t${f.type}\t${f.amount}\n`)) await once(this.file, "drain");
    }
  }

  async close(): Promise<void> {
    this.file.end();
    await finished(this.file);
  }

  lines(): AsyncIterable<string> {
    return createInterface({ input: createReadStream(this.path), crlfDelay: Infinity });
  }

  async remove(): Promise<void> {
    if (!this.file.closed) this.file.destroy();
    await rm(this.path, { force: true });
  }
}

const SHARED_STYLES: Record<TapeColumn["type"], Partial<ExcelJS.Style>> = {
  money: { numFmt: "#,##0.00" },
  rate: { numFmt: "0.0000" },
  date: { numFmt: "yyyy-mm-dd" },
  integer: { numFmt: "0" },
  string: {},
};

/**
 * A tape has few distinct dates and a million date cells: each is parsed once. (exceljs only reads
 * a cell's Date, so one object serves them all; the cache is dropped if it ever grows large.)
 */
const dates = new Map<string, Date>();
function isoToDate(iso: string): Date {
  let date = dates.get(iso);
  if (!date) {
    if (dates.size >= 50_000) dates.clear();
    const [y, m, d] = iso.split("-").map(Number);
    date = new Date(Date.UTC(y, m - 1, d));
    dates.set(iso, date);
  }
  return date;
}

/** A typed XLSX cell from a catalogue value: the number a spreadsheet sums, the date it sorts. */
function xlsxCell(col: TapeColumn, value: string | number | null): unknown {
  if (value == null) return null;
  if (typeof value === "string" && value.startsWith("ND")) return value;
  switch (col.type) {
    case "money":
    case "rate":
      // The cell is an IEEE double whatever we do; Number() of a decimal string is the nearest
      // one, as Decimal#toNumber is. Totals are never summed from these (decimal.js, reconcile.ts).
      return Number(value);
    case "integer":
      return Number(value);
    case "date":
      return /^\d{4}-\d{2}-\d{2}$/.test(String(value)) ? isoToDate(String(value)) : value;
    default:
      return value;
  }
}

const HEADER_STYLE = {
  font: { bold: true, color: { argb: "FFFFFFFF" } },
  fill: { type: "pattern", pattern: "solid", fgColor: { argb: "FF1F4E78" } },
  alignment: { vertical: "middle" },
} as const;

function styleHeader(row: ExcelJS.Row): void {
  row.eachCell((cell) => {
    cell.font = HEADER_STYLE.font;
    cell.fill = HEADER_STYLE.fill as ExcelJS.Fill;
    cell.alignment = HEADER_STYLE.alignment;
  });
}

export async function writeXlsx(content: TapeContent, out: Writable): Promise<void> {
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({
    stream: out,
    useStyles: true,
    useSharedStrings: false,
  });
  wb.creator = "loan-platform tapes";
  // Whatever fails downstream (the chunk store, the zip) ends a wait for the zip to drain.
  const failed = failureOf(out, (wb as any).zip);
  const spool = new PaymentSpool();
  try {
    const tape = wb.addWorksheet("Tape", { views: [{ state: "frozen", ySplit: 1 }] });
    tape.columns = content.columns.map((c) => ({ header: c.header, key: c.header, width: Math.max(12, c.header.length + 2) }));
    styleHeader(tape.getRow(1));
    tape.getRow(1).commit();
    // One style object per column type, shared by every cell: exceljs caches a style's id by the
    // object's identity, so 100,000 rows cost one style lookup per column type, not one per cell.
    const styles = content.columns.map((c) => SHARED_STYLES[c.type]);
    let n = 0;
    for await (const page of content.pages) {
      for (const loan of page) {
        const row = tape.addRow(content.columns.map((c) => xlsxCell(c, cellValue(c, loan, content.ctx))));
        for (let i = 0; i < styles.length; i++) row.getCell(i + 1).style = styles[i];
        row.commit();
        await spool.add(loan);
        await pace(++n, tape, failed);
      }
    }
    tape.commit();
    await spool.close();

    const payments = wb.addWorksheet("Payments", { views: [{ state: "frozen", ySplit: 1 }] });
    payments.columns = [
      { header: "loan_id", key: "loan_id", width: 26 },
      { header: "date", key: "date", width: 12 },
      { header: "type", key: "type", width: 14 },
      { header: "amount", key: "amount", width: 14 },
    ];
    styleHeader(payments.getRow(1));
    payments.getRow(1).commit();
    const paymentStyles = [SHARED_STYLES.string, SHARED_STYLES.date, SHARED_STYLES.string, SHARED_STYLES.money];
    for await (const line of spool.lines()) {
      if (!line) continue;
      const [loanId, date, type, amount] = line.split("\t");
      const row = payments.addRow([loanId, isoToDate(date), type, Number(amount)]);
      for (let i = 0; i < 4; i++) row.getCell(i + 1).style = paymentStyles[i];
      row.commit();
      await pace(++n, payments, failed);
    }
    payments.commit();

    const summary = wb.addWorksheet("Summary");
    summary.columns = [{ header: "item", key: "item", width: 34 }, { header: "value", key: "value", width: 60 }];
    styleHeader(summary.getRow(1));
    const { totals: t, reconciliation: r } = content.summary();
    const lines: [string, unknown][] = [
      ["tape", content.title],
      ["portfolio_id", content.ctx.portfolio_id],
      ["business_date", isoToDate(content.ctx.business_date)],
      ["loan_count", t.loan_count],
      ["total_balance", new Decimal(t.total_balance).toNumber()],
      ["total_interest_receivable", new Decimal(t.total_interest_receivable).toNumber()],
      ["total_arrears", new Decimal(t.total_arrears).toNumber()],
      ["total_collected", new Decimal(t.total_collected).toNumber()],
      ["payment_rows", t.payment_rows],
      ["snapshot_loan_count", r.snapshot_loan_count],
      ["snapshot_total_balance", new Decimal(r.snapshot_total_balance).toNumber()],
      ["reconciled", r.ok ? "yes" : "NO"],
      ["reconciliation", r.message],
    ];
    for (const [item, value] of lines) {
      const row = summary.addRow([item, value]);
      const cell = row.getCell(2);
      if (value instanceof Date) cell.numFmt = "yyyy-mm-dd";
      else if (typeof value === "number" && /balance|total_/.test(item)) cell.numFmt = "#,##0.00";
      row.commit();
    }
    summary.commit();
    // exceljs's commit waits for the output to finish, which a failed output never does.
    await Promise.race([wb.commit(), failed]);
    if (!out.writableFinished) await finished(out);
  } finally {
    await spool.remove();
  }
}
