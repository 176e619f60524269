/**
 * `loans.exportPositions`: every loan's attributes, last published position, version and cash
 * transactions as newline-delimited JSON, streamed — one call for a consumer rebuilding its
 * projection (the snapshots service's resync). Ledgers are read a page of loans at a time with
 * exact `_id` lookups (DESIGN.md §1).
 */
import { Readable } from "node:stream";
import type { Model } from "mongoose";
import { attributesOf, transactionView } from "./loan-views";
import { decodeLoan } from "./stored-loan";

const PAGE = 200;

async function* lines(loans: Model<any>, transactions: Model<any>): AsyncGenerator<Buffer> {
  let page: any[] = [];
  const flush = async function* () {
    const ids = page.flatMap((d) => Array.from({ length: d.ledger_seq ?? 0 }, (_, i) => `${d._id}-${i + 1}`));
    const txs = ids.length ? await transactions.collection.find({ _id: { $in: ids as any[] } }).toArray() : [];
    const byLoan = new Map<string, any[]>();
    for (const t of txs) {
      const view = transactionView(t as any);
      if (!view.cash_class) continue;
      const list = byLoan.get(view.loan_id) ?? [];
      list.push(view);
      byLoan.set(view.loan_id, list);
    }
    const out = page.map((d) =>
      JSON.stringify({ loan_id: String(d._id), version: d.version, attributes: attributesOf(d), state: d.position ?? null, transactions: byLoan.get(String(d._id)) ?? [] }),
    );
    page = [];
    if (out.length) yield Buffer.from(out.join("\n") + "\n");
  };
  for await (const doc of loans.collection.find({}).sort({ _id: 1 })) {
    page.push(decodeLoan(doc));
    if (page.length >= PAGE) yield* flush();
  }
  yield* flush();
}

export function exportPositions(loans: Model<any>, transactions: Model<any>): Readable {
  return Readable.from(lines(loans, transactions), { objectMode: false });
}
