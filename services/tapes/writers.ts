/**
 * The two tape formats (DESIGN.md §11), both streamed into a Writable (the chunk store):
 * - CSV: RFC 4180 through csv-stringify (CRLF records, quoting by the library), UTF-8, money as
 *   decimal strings exactly as computed.
 * - XLSX: exceljs's streaming WorkbookWriter; typed cells (money as numbers shown with two
 *   decimals, dates as dates, integers), a styled and frozen header, a Payments sheet with every
 *   cash flow, a Summary sheet with the totals and the reconciliation.
 */
import { once } from "node:events";
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
  loans: readonly TapeLoan[];
  ctx: TapeContext;
  totals: TapeTotals;
  reconciliation: Reconciliation;
  title: string;
}

export const CONTENT_TYPES = {
  csv: "text/csv; charset=utf-8",
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
} as const;

export async function writeCsv(content: TapeContent, out: Writable): Promise<void> {
  const csv = stringify({ header: true, columns: content.columns.map((c) => c.header), record_delimiter: "windows", cast: { number: (n) => String(n) } });
  csv.pipe(out);
  for (const loan of content.loans) {
    const row = content.columns.map((c) => cellValue(c, loan, content.ctx) ?? "");
    if (!csv.write(row)) await once(csv, "drain");
  }
  csv.end();
  await finished(out);
}

/**
 * exceljs commits rows synchronously into its zip; deflate runs on the event loop's thread pool.
 * A loop that never yields buffers the whole sheet before a byte is compressed, so the writer
 * lets the zip run every few hundred rows. (This is not full backpressure: exceljs's sheet stream
 * does not report the deflater's backlog, so on a starved CPU some XML still queues; see the bench.)
 */
const YIELD_EVERY = 250;
const drained = () => new Promise<void>((resolve) => setImmediate(resolve));

const SHARED_STYLES: Record<TapeColumn["type"], Partial<ExcelJS.Style>> = {
  money: { numFmt: "#,##0.00" },
  rate: { numFmt: "0.0000" },
  date: { numFmt: "yyyy-mm-dd" },
  integer: { numFmt: "0" },
  string: {},
};

function isoToDate(iso: string): Date {
  const [y, m, d] = iso.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d));
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

  const tape = wb.addWorksheet("Tape", { views: [{ state: "frozen", ySplit: 1 }] });
  tape.columns = content.columns.map((c) => ({ header: c.header, key: c.header, width: Math.max(12, c.header.length + 2) }));
  styleHeader(tape.getRow(1));
  tape.getRow(1).commit();
  // One style object per column type, shared by every cell: exceljs caches a style's id by the
  // object's identity, so 100,000 rows cost one style lookup per column type, not one per cell.
  const styles = content.columns.map((c) => SHARED_STYLES[c.type]);
  let n = 0;
  for (const loan of content.loans) {
    if (++n % YIELD_EVERY === 0) await drained();
    const row = tape.addRow(content.columns.map((c) => xlsxCell(c, cellValue(c, loan, content.ctx))));
    for (let i = 0; i < styles.length; i++) row.getCell(i + 1).style = styles[i];
    row.commit();
  }
  tape.commit();

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
  for (const loan of content.loans) {
    if (++n % YIELD_EVERY === 0) await drained();
    for (const f of loan.cash_flows ?? []) {
      const row = payments.addRow([loan.loan_id, isoToDate(f.date), f.type, Number(f.amount)]);
      for (let i = 0; i < 4; i++) row.getCell(i + 1).style = paymentStyles[i];
      row.commit();
    }
  }
  payments.commit();

  const summary = wb.addWorksheet("Summary");
  summary.columns = [{ header: "item", key: "item", width: 34 }, { header: "value", key: "value", width: 60 }];
  styleHeader(summary.getRow(1));
  const r = content.reconciliation;
  const t = content.totals;
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
  await wb.commit();
  if (!out.writableFinished) await finished(out);
}
