/**
 * `portfolios.exportMemberships`: every portfolio (name, program, status, version, sale) and every
 * membership with its dates, as streamed newline-delimited JSON — one call for a consumer
 * rebuilding its projection (the snapshots service's resync).
 */
import { Readable } from "node:stream";
import type { Model } from "mongoose";

async function* lines(portfolios: Model<any>, memberships: Model<any>): AsyncGenerator<Buffer> {
  let out: string[] = [];
  for await (const p of portfolios.collection.find({})) {
    const sale = p.sale
      ? { investor_id: p.sale.investor_id, sale_date: p.sale.sale_date, price: String(p.sale.price), loan_ids: (p.sale.lines ?? []).map((l: any) => l.loan_id) }
      : null;
    out.push(JSON.stringify({ kind: "portfolio", id: String(p._id), version: p.version, name: p.name, program_id: p.program_id ?? null, status: p.status, sale }));
  }
  for await (const m of memberships.collection.find({})) {
    out.push(JSON.stringify({ kind: "membership", loan_id: m.loan_id, portfolio_id: m.portfolio_id, added_on: m.added_on, removed_on: m.removed_on ?? null }));
    if (out.length >= 500) {
      yield Buffer.from(out.join("\n") + "\n");
      out = [];
    }
  }
  if (out.length) yield Buffer.from(out.join("\n") + "\n");
}

export function exportMemberships(portfolios: Model<any>, memberships: Model<any>): Readable {
  return Readable.from(lines(portfolios, memberships), { objectMode: false });
}
