/**
 * Stores what the pure projection (shared/snapshots/loan-projection.ts) returns: one document per
 * loan by `_id`, a read-modify-write guarded by `rev` (the loans and portfolios consumers may
 * touch one loan at once), and one bulk write per close-of-business batch.
 *
 * A document keeps the loan's attributes, position and cash flows as JSON strings, its version
 * and membership spans as fields: the daily job reads the whole projection, and the wire server
 * stores and returns a string several times faster than the nested documents it would otherwise
 * build (issue 11 bench); a snapshot's rows reuse the strings as they are. Nothing queries inside
 * them: every read is by `_id` or a full scan. Beside them, the few `figures` the metrics count
 * (derived when stored), so the daily job never parses a whole position. A document of the older
 * shape (nested fields) reads the same and is rewritten in the new shape on its next change.
 */
import type { Model } from "mongoose";
import { emptyLoan, loanFigures, type LoanFigures, type ProjectedLoan } from "../../shared/snapshots/loan-projection";

export interface StoredLoan {
  _id: string;
  rev?: number;
  version?: number;
  spans?: ProjectedLoan["spans"];
  attributes_json?: string | null;
  state_json?: string | null;
  flows_json?: string;
  /** Derived from attributes and state when stored (shared/snapshots/loan-projection.ts `loanFigures`). */
  figures?: LoanFigures | null;
  /** The older shape. */
  attributes?: ProjectedLoan["attributes"];
  state?: ProjectedLoan["state"];
  flows?: ProjectedLoan["flows"];
}

export function toProjected(doc: StoredLoan | null, loanId: string): ProjectedLoan {
  if (!doc) return emptyLoan(loanId);
  const a = doc.attributes_json;
  const s = doc.state_json;
  return {
    _id: doc._id,
    version: doc.version ?? 0,
    attributes: typeof a === "string" ? JSON.parse(a) : (doc.attributes ?? null),
    state: typeof s === "string" ? JSON.parse(s) : (doc.state ?? null),
    flows: typeof doc.flows_json === "string" ? JSON.parse(doc.flows_json) : (doc.flows ?? []),
    spans: doc.spans ?? [],
  };
}

/** The stored fields of a projection (everything but `_id` and `rev`). */
export function toStored(p: ProjectedLoan) {
  return {
    version: p.version,
    spans: p.spans,
    attributes_json: p.attributes ? JSON.stringify(p.attributes) : null,
    state_json: p.state ? JSON.stringify(p.state) : null,
    flows_json: JSON.stringify(p.flows),
    figures: loanFigures(p),
  };
}

/** Clears the older shape's fields when a document is rewritten. */
const OLD_SHAPE = { attributes: "", state: "", flows: "" } as const;

const MAX_TRIES = 50;

/** Applies `change` to one loan's projection; a lost race reads again and reapplies. */
export async function updateLoan(model: Model<any>, loanId: string, change: (p: ProjectedLoan) => ProjectedLoan): Promise<void> {
  for (let i = 0; i < MAX_TRIES; i++) {
    const doc = (await model.collection.findOne({ _id: loanId as any })) as StoredLoan | null;
    const base = toProjected(doc, loanId);
    const next = change(base);
    if (next === base) return;
    if (!doc) {
      try {
        await model.collection.insertOne({ _id: loanId as any, ...toStored(next), rev: 1 });
        return;
      } catch (err: any) {
        if (err?.code !== 11000) throw err;
        continue;
      }
    }
    const r = await model.collection.updateOne({ _id: loanId as any, rev: doc.rev ?? 0 }, { $set: toStored(next), $unset: OLD_SHAPE, $inc: { rev: 1 } });
    if (r.matchedCount === 1) return;
  }
  throw new Error(`snapshot_loans ${loanId}: too many concurrent updates`);
}

/** A batch of changes (a close-of-business chunk): one read, one bulk write, stragglers one by one. */
export async function updateLoans(model: Model<any>, changes: Map<string, (p: ProjectedLoan) => ProjectedLoan>): Promise<void> {
  const ids = [...changes.keys()];
  if (!ids.length) return;
  const docs = (await model.collection.find({ _id: { $in: ids as any[] } }).toArray()) as unknown as StoredLoan[];
  const byId = new Map(docs.map((d) => [d._id, d]));
  const ops: any[] = [];
  const opIds: string[] = [];
  for (const id of ids) {
    const doc = byId.get(id) ?? null;
    const base = toProjected(doc, id);
    const next = changes.get(id)!(base);
    if (next === base) continue;
    opIds.push(id);
    ops.push(doc ? { updateOne: { filter: { _id: id, rev: doc.rev ?? 0 }, update: { $set: toStored(next), $unset: OLD_SHAPE, $inc: { rev: 1 } } } } : { insertOne: { document: { _id: id, ...toStored(next), rev: 1 } } });
  }
  if (!ops.length) return;
  let missed: string[] = [];
  try {
    const r = await model.collection.bulkWrite(ops, { ordered: false });
    if (r.matchedCount + r.insertedCount < ops.length) missed = opIds.filter((_, i) => ops[i].updateOne);
  } catch (err: any) {
    if (err?.code !== 11000 && !err?.writeErrors) throw err;
    missed = opIds;
  }
  // Whatever lost a race (or was unsure) goes through the single guarded path: applying is idempotent.
  for (const id of missed) await updateLoan(model, id, changes.get(id)!);
}
