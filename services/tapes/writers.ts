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

const NUM_FMT: Partial<Record<TapeColumn["type"], string>> = { money: "#,##0.00", rate: "0.0000", date: "yyyy-mm-dd", integer: "0" };

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
      return new Decimal(value).toNumber();
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
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true, useSharedStrings: false });
  wb.creator = "loan-platform tapes";

  const tape = wb.addWorksheet("Tape", { views: [{ state: "frozen", ySplit: 1 }] });
  tape.columns = content.columns.map((c) => ({ header: c.header, key: c.header, width: Math.max(12, c.header.length + 2), style: NUM_FMT[c.type] ? { numFmt: NUM_FMT[c.type] } : {} }));
  styleHeader(tape.getRow(1));
  tape.getRow(1).commit();
  for (const loan of content.loans) {
    tape.addRow(content.columns.map((c) => xlsxCell(c, cellValue(c, loan, content.ctx)))).commit();
  }
  tape.commit();

  const payments = wb.addWorksheet("Payments", { views: [{ state: "frozen", ySplit: 1 }] });
  payments.columns = [
    { header: "loan_id", key: "loan_id", width: 26 },
    { header: "date", key: "date", width: 12, style: { numFmt: "yyyy-mm-dd" } },
    { header: "type", key: "type", width: 14 },
    { header: "amount", key: "amount", width: 14, style: { numFmt: "#,##0.00" } },
  ];
  styleHeader(payments.getRow(1));
  payments.getRow(1).commit();
  for (const loan of content.loans) {
    for (const f of loan.cash_flows ?? []) payments.addRow([loan.loan_id, isoToDate(f.date), f.type, new Decimal(f.amount).toNumber()]).commit();
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
