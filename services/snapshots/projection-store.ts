/**
 * Stores what the pure projection (shared/snapshots/loan-projection.ts) returns: one document per
 * loan by `_id`, a read-modify-write guarded by `rev` (the loans and portfolios consumers may
 * touch one loan at once), and one bulk write per close-of-business batch.
 */
import type { Model } from "mongoose";
import { emptyLoan, type ProjectedLoan } from "../../shared/snapshots/loan-projection";

type Doc = ProjectedLoan & { rev?: number };

export function toProjected(doc: Doc | null, loanId: string): ProjectedLoan {
  if (!doc) return emptyLoan(loanId);
  return { _id: doc._id, version: doc.version ?? 0, attributes: doc.attributes ?? null, state: doc.state ?? null, flows: doc.flows ?? [], spans: doc.spans ?? [] };
}

function fields(p: ProjectedLoan) {
  return { version: p.version, attributes: p.attributes, state: p.state, flows: p.flows, spans: p.spans };
}

const MAX_TRIES = 50;

/** Applies `change` to one loan's projection; a lost race reads again and reapplies. */
export async function updateLoan(model: Model<any>, loanId: string, change: (p: ProjectedLoan) => ProjectedLoan): Promise<void> {
  for (let i = 0; i < MAX_TRIES; i++) {
    const doc = (await model.collection.findOne({ _id: loanId as any })) as Doc | null;
    const base = toProjected(doc, loanId);
    const next = change(base);
    if (next === base) return;
    if (!doc) {
      try {
        await model.collection.insertOne({ _id: loanId as any, ...fields(next), rev: 1 });
        return;
      } catch (err: any) {
        if (err?.code !== 11000) throw err;
        continue;
      }
    }
    const r = await model.collection.updateOne({ _id: loanId as any, rev: doc.rev ?? 0 }, { $set: fields(next), $inc: { rev: 1 } });
    if (r.matchedCount === 1) return;
  }
  throw new Error(`snapshot_loans ${loanId}: too many concurrent updates`);
}

/** A batch of changes (a close-of-business chunk): one read, one bulk write, stragglers one by one. */
export async function updateLoans(model: Model<any>, changes: Map<string, (p: ProjectedLoan) => ProjectedLoan>): Promise<void> {
  const ids = [...changes.keys()];
  if (!ids.length) return;
  const docs = (await model.collection.find({ _id: { $in: ids as any[] } }).toArray()) as unknown as Doc[];
  const byId = new Map(docs.map((d) => [d._id, d]));
  const ops: any[] = [];
  const opIds: string[] = [];
  for (const id of ids) {
    const doc = byId.get(id) ?? null;
    const base = toProjected(doc, id);
    const next = changes.get(id)!(base);
    if (next === base) continue;
    opIds.push(id);
    ops.push(doc ? { updateOne: { filter: { _id: id, rev: doc.rev ?? 0 }, update: { $set: fields(next), $inc: { rev: 1 } } } } : { insertOne: { document: { _id: id, ...fields(next), rev: 1 } } });
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
