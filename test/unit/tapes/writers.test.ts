/**
 * The tape writers over pages of loans (issue 12 point 3 and 8): every page's loans on the Tape
 * sheet, every cash flow on the Payments sheet (spooled while the tape is written), the Summary
 * asked for once all pages are read; a failing output rejects rather than waiting for a drain.
 */
import { readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { Writable } from "node:stream";
import ExcelJS from "exceljs";
import type { TapeLoan } from "../../../shared/tapes/catalogue";
import { tapeColumns } from "../../../shared/tapes/layouts";
import { reconcile, TotalsAccumulator } from "../../../shared/tapes/reconcile";
import { counted } from "../../../services/tapes/source";
import { writeCsv, writeXlsx, type TapeContent } from "../../../services/tapes/writers";

function loan(i: number): TapeLoan {
  const id = `loan-${String(i).padStart(3, "0")}`;
  return {
    loan_id: id,
    version: 3,
    attributes: {
      loan_id: id, external_id: null, product_id: "p", program_id: "g", program_type: "installment", interest_rate_type: "fixed", origination_date: "2026-01-15",
      vintage: "2026-01", principal: "1000.00", annual_rate: "0.1200", term_months: 12, maturity_date: "2027-01-15", index_name: null, margin: null, region: "US-NY",
      credit_score: 700, currency: "USD",
    },
    state: {
      status: "active", principal_balance: `${900 + i}.50`, interest_receivable: "1.00", fees_due: "0.00", deferred_interest: "0.00", credit_balance: "0.00",
      past_due_amount: "0.00", days_past_due: 0, bucket: "current", next_due_date: "2026-07-15", next_payment_amount: "88.85", total_disbursed: "1000.00",
      total_collected: "100.00", as_of: "2026-06-30", closed_through: "2026-06-30", portfolio_id: "pf", investor_id: null,
    },
    cash_flows: [
      { date: "2026-01-15", amount: "-1000.00", type: "disbursement" },
      { date: "2026-02-15", amount: "100.00", type: "payment", prepaid_principal: "11.15" },
    ],
  };
}

async function* pages(n: number, size: number): AsyncGenerator<TapeLoan[]> {
  for (let i = 0; i < n; i += size) yield Array.from({ length: Math.min(size, n - i) }, (_, k) => loan(i + k));
}

class Collect extends Writable {
  readonly parts: Buffer[] = [];
  override _write(chunk: Buffer, _e: BufferEncoding, cb: () => void) {
    this.parts.push(chunk);
    cb();
  }
}

function content(n: number, size: number, fields = ["loan_id", "current_principal_balance", "cumulative_prepayments", "origination_date"]): { content: TapeContent; acc: TotalsAccumulator; asked: () => number } {
  const acc = new TotalsAccumulator();
  let asked = 0;
  return {
    acc,
    asked: () => asked,
    content: {
      columns: tapeColumns({ required_fields: fields }),
      pages: counted(pages(n, size), acc),
      ctx: { portfolio_id: "pf", business_date: "2026-06-30" },
      summary: () => {
        asked++;
        const totals = acc.result();
        return { totals, reconciliation: reconcile(totals, { loan_count: n, total_balance: totals.total_balance }) };
      },
      title: "unit",
    },
  };
}

const spools = async () => (await readdir(tmpdir())).filter((f) => f.startsWith("tape-payments-")).length;

describe("tape writers over pages", () => {
  it("XLSX: each page's loans on the Tape sheet, each cash flow on Payments, the Summary after all pages; the spool file removed", async () => {
    const before = await spools();
    const { content: c, asked } = content(7, 3);
    const out = new Collect();
    await writeXlsx(c, out);
    expect(asked()).toBe(1);
    expect(await spools()).toBe(before);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.concat(out.parts) as any);
    const tape = wb.getWorksheet("Tape")!;
    expect(tape.rowCount).toBe(1 + 7);
    expect(tape.getRow(8).values).toEqual([undefined, "loan-006", 906.5, 11.15, new Date(Date.UTC(2026, 0, 15))]);
    const payments = wb.getWorksheet("Payments")!;
    expect(payments.rowCount).toBe(1 + 14);
    expect(payments.getRow(15).values).toEqual([undefined, "loan-006", new Date(Date.UTC(2026, 1, 15)), "payment", 100]);
    const summary = new Map<string, unknown>();
    wb.getWorksheet("Summary")!.eachRow((r) => summary.set(String(r.getCell(1).value), r.getCell(2).value));
    // 900.50 + 901.50 + … + 906.50 = 7 × 903.50 = 6,324.50
    expect([summary.get("loan_count"), summary.get("total_balance"), summary.get("payment_rows"), summary.get("reconciled")]).toEqual([7, 6324.5, 14, "yes"]);
  });

  it("CSV: one record per loan across pages, the totals counted on the way", async () => {
    const { content: c, acc } = content(5, 2);
    const out = new Collect();
    await writeCsv(c, out);
    const lines = Buffer.concat(out.parts).toString("utf8").split("\r\n").filter(Boolean);
    expect(lines).toEqual(["loan_id,current_principal_balance,cumulative_prepayments,origination_date", ...[0, 1, 2, 3, 4].map((i) => `loan-00${i},${900 + i}.50,11.15,2026-01-15`)]);
    expect(acc.result()).toMatchObject({ loan_count: 5, total_balance: "4512.50" });
  });

  it.each([["XLSX", writeXlsx], ["CSV", writeCsv]] as const)("%s: an output that fails rejects the write, no hang, no spool left", async (_name, write) => {
    const before = await spools();
    const broken = new Writable({ highWaterMark: 1024, write: (_c, _e, cb) => cb(new Error("chunk store down")) });
    await expect(write(content(3000, 500, undefined).content, broken)).rejects.toThrow();
    expect(await spools()).toBe(before);
  }, 30_000);
});
