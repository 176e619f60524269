/**
 * Disaster recovery (issue 11 point 1): the projection rebuilt from the loans and portfolios
 * services in one streamed call each (`loans.exportPositions`, `portfolios.exportMemberships`),
 * written over the live one in bulk. Loans the export does not know are left as they are.
 */
import type { Context } from "moleculer";
import type { Readable } from "node:stream";
import { loanFromExport, type MembershipSpan } from "../../shared/snapshots/loan-projection";
import type { SnapshotModels } from "./take";
import { toStored } from "./projection-store";

const BATCH = 1000;

/** Newline-delimited JSON from a stream of bytes, one parsed line at a time. */
export async function* ndjson(stream: Readable): AsyncGenerator<any> {
  let rest = "";
  for await (const chunk of stream) {
    rest += chunk.toString("utf8");
    let nl: number;
    while ((nl = rest.indexOf("\n")) >= 0) {
      const line = rest.slice(0, nl);
      rest = rest.slice(nl + 1);
      if (line.trim()) yield JSON.parse(line);
    }
  }
  if (rest.trim()) yield JSON.parse(rest);
}

export async function resync(models: SnapshotModels, ctx: Context) {
  const started = Date.now();
  const spans = new Map<string, MembershipSpan[]>();
  const portfolioOps: any[] = [];
  for await (const row of ndjson((await ctx.call("portfolios.exportMemberships", {}, { timeout: 0 })) as Readable)) {
    if (row.kind === "portfolio") {
      portfolioOps.push({ replaceOne: { filter: { _id: row.id }, replacement: { version: row.version, name: row.name, program_id: row.program_id, status: row.status, sale: row.sale }, upsert: true } });
    } else if (row.kind === "membership") {
      const list = spans.get(row.loan_id) ?? [];
      list.push({ portfolio_id: row.portfolio_id, from: row.added_on, to: row.removed_on });
      spans.set(row.loan_id, list);
    }
  }
  if (portfolioOps.length) await models.snapshot_portfolios.collection.bulkWrite(portfolioOps, { ordered: false });

  let loans = 0;
  let ops: any[] = [];
  const rev = Date.now();
  const flush = async () => {
    if (ops.length) await models.snapshot_loans.collection.bulkWrite(ops, { ordered: false });
    ops = [];
  };
  for await (const row of ndjson((await ctx.call("loans.exportPositions", {}, { timeout: 0 })) as Readable)) {
    const p = loanFromExport(row, spans.get(row.loan_id) ?? []);
    spans.delete(row.loan_id);
    ops.push({ replaceOne: { filter: { _id: p._id }, replacement: { ...toStored(p), rev }, upsert: true } });
    loans++;
    if (ops.length >= BATCH) await flush();
  }
  // Memberships of loans the loans service did not list: keep their spans all the same.
  for (const [loanId, list] of spans) ops.push({ updateOne: { filter: { _id: loanId }, update: { $set: { spans: list }, $inc: { rev: 1 } }, upsert: true } });
  await flush();
  return { loans, portfolios: portfolioOps.length, duration_ms: Date.now() - started };
}
