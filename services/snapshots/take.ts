/**
 * Taking snapshots (DESIGN.md §4, §10): the members of a portfolio on D from the projection, their
 * §4 metrics (shared/snapshots/group-metrics.ts), the rows they were computed from, and the
 * snapshot itself inserted last under its unique `_id` — so a snapshot exists only with all its
 * rows, a second take of (portfolio, D) returns the first, and nothing rewrites it.
 *
 * The daily job reads the projection once, groups it by portfolio, program and vintage, and
 * computes the portfolios with bounded concurrency.
 */
import { randomUUID } from "node:crypto";
import type { Model } from "mongoose";
import { flowsThrough, portfolioOn, type CashFlowEntry, type ProjectedLoan } from "../../shared/snapshots/loan-projection";
import { buyerView, groupMetrics, type SaleTerms } from "../../shared/snapshots/group-metrics";
import { toProjected } from "./projection-store";

export interface SnapshotModels {
  snapshot_loans: Model<any>;
  snapshot_portfolios: Model<any>;
  snapshots: Model<any>;
  snapshot_rows: Model<any>;
  group_metrics: Model<any>;
  snapshot_runs: Model<any>;
}

export type SnapshotKind = "daily" | "adhoc" | "sale";
const ROWS_PER_CHUNK = 500;

export function snapshotId(portfolioId: string, date: string, kind: SnapshotKind): string {
  return kind === "sale" ? `${portfolioId}:${date}:sale` : `${portfolioId}:${date}`;
}

/** Every projected loan, streamed (the one read of the projection a day's job makes). */
export async function readProjection(model: Model<any>, onLoan: (p: ProjectedLoan) => void): Promise<number> {
  let n = 0;
  for await (const doc of model.collection.find({}).batchSize(5000)) {
    onLoan(toProjected(doc as any, String(doc._id)));
    n++;
  }
  return n;
}

/** A loan as a snapshot row: what the tapes service reads (DESIGN.md §11 reconciliation). */
export function rowOf(p: ProjectedLoan, date: string) {
  return { loan_id: p._id, version: p.version, attributes: p.attributes, state: p.state, cash_flows: flowsThrough(p, date).map(cashFlowRow) };
}

/**
 * A cash flow as a row carries it. A collection carries its `prepaid_principal` ("0.00" too) once
 * the projection has it, so a tape tells "none prepaid" from "not known" (a flow projected from an
 * event older than the field, until a resync); money paid out carries none.
 */
function cashFlowRow(f: CashFlowEntry) {
  const row: { tx_id: string; date: string; amount: string; type: string; prepaid_principal?: string } = { tx_id: f.tx_id, date: f.date, amount: f.amount, type: f.type };
  if (f.prepaid_principal !== undefined && !f.amount.startsWith("-")) row.prepaid_principal = f.prepaid_principal;
  return row;
}

export async function saleOf(models: SnapshotModels, portfolioId: string): Promise<SaleTerms | null> {
  const doc: any = await models.snapshot_portfolios.collection.findOne({ _id: portfolioId as any });
  return doc?.sale ?? null;
}

/**
 * Takes (or returns) the snapshot of one portfolio on `date` from the members given. Members are
 * the loans the projection places in the portfolio on `date` (a sale's: the loans sold).
 */
export async function takeFromMembers(models: SnapshotModels, input: { portfolio_id: string; date: string; kind: SnapshotKind; members: ProjectedLoan[]; sale: SaleTerms | null }) {
  const _id = snapshotId(input.portfolio_id, input.date, input.kind);
  const existing = await models.snapshots.collection.findOne({ _id: _id as any });
  if (existing) return existing;
  const members = input.members.filter((m) => m.state && m.attributes).sort((a, b) => a._id.localeCompare(b._id));
  const metrics = groupMetrics(input.date, members);
  const buyer = input.sale && input.sale.sale_date <= input.date ? buyerView(input.sale, members, input.date) : null;
  const token = randomUUID().slice(0, 8);
  const chunks: any[] = [];
  for (let i = 0; i < members.length; i += ROWS_PER_CHUNK) {
    // One JSON string per chunk: the wire server stores a string far faster than nested documents.
    chunks.push({ _id: `${_id}:${token}:${chunks.length}`, rows_json: JSON.stringify(members.slice(i, i + ROWS_PER_CHUNK).map((m) => rowOf(m, input.date))) });
  }
  if (chunks.length) await models.snapshot_rows.collection.insertMany(chunks, { ordered: false });
  const doc = {
    _id,
    portfolio_id: input.portfolio_id,
    business_date: input.date,
    kind: input.kind,
    ...metrics,
    buyer,
    rows_token: token,
    row_chunks: chunks.length,
    taken_at: new Date().toISOString(),
  };
  try {
    await models.snapshots.collection.insertOne(doc as any);
    return doc;
  } catch (err: any) {
    if (err?.code !== 11000) throw err;
    // Another take won the race: its snapshot stands, these rows go.
    if (chunks.length) await models.snapshot_rows.collection.deleteMany({ _id: { $in: chunks.map((c) => c._id) } });
    return models.snapshots.collection.findOne({ _id: _id as any });
  }
}

/** The snapshot of one portfolio on `date` (ad hoc, or the sale's), reading the projection once. */
export async function takeOne(models: SnapshotModels, portfolioId: string, date: string, kind: SnapshotKind, onlyLoans?: string[]) {
  const existing = await models.snapshots.collection.findOne({ _id: snapshotId(portfolioId, date, kind) as any });
  if (existing) return existing;
  const only = onlyLoans ? new Set(onlyLoans) : null;
  const members: ProjectedLoan[] = [];
  if (only) {
    const docs = await models.snapshot_loans.collection.find({ _id: { $in: [...only] as any[] } }).toArray();
    for (const d of docs) members.push(toProjected(d as any, String(d._id)));
  } else {
    await readProjection(models.snapshot_loans, (p) => {
      if (portfolioOn(p, date) === portfolioId) members.push(p);
    });
  }
  return takeFromMembers(models, { portfolio_id: portfolioId, date, kind, members, sale: await saleOf(models, portfolioId) });
}

/** Runs `work` over `items` with at most `limit` running at once. */
export async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]);
  });
  await Promise.all(runners);
}

/**
 * The daily `snapshots` job for D: one snapshot per known portfolio, program and vintage metrics
 * (loans disbursed on or before D), all from one read of the projection. Idempotent per D.
 */
export async function runDaily(models: SnapshotModels, date: string, opts: { concurrency?: number } = {}) {
  const started = Date.now();
  const phases_ms: Record<string, number> = {};
  const done: any = await models.snapshot_runs.collection.findOne({ _id: date as any });
  if (done?.status === "completed") return { business_date: date, counts: done.counts, duration_ms: done.duration_ms, repeated: true };
  const portfolios = (await models.snapshot_portfolios.collection.find({}).toArray()) as any[];
  const byPortfolio = new Map<string, ProjectedLoan[]>(portfolios.map((p) => [String(p._id), []]));
  const byProgram = new Map<string, ProjectedLoan[]>();
  const byVintage = new Map<string, ProjectedLoan[]>();
  const loans = await readProjection(models.snapshot_loans, (p) => {
    const pid = portfolioOn(p, date);
    if (pid) {
      if (!byPortfolio.has(pid)) byPortfolio.set(pid, []);
      byPortfolio.get(pid)!.push(p);
    }
    const a = p.attributes;
    if (!a || !p.state || !a.origination_date || a.origination_date > date) return;
    push(byProgram, a.program_id, p);
    push(byVintage, a.vintage, p);
  });
  phases_ms.read = Date.now() - started;
  const sales = new Map(portfolios.filter((p) => p.sale).map((p) => [String(p._id), p.sale as SaleTerms]));
  await eachLimited([...byPortfolio.entries()], opts.concurrency ?? 8, ([pid, members]) =>
    takeFromMembers(models, { portfolio_id: pid, date, kind: "daily", members, sale: sales.get(pid) ?? null }),
  );
  phases_ms.portfolios = Date.now() - started - phases_ms.read;
  const groups: any[] = [];
  for (const [level, map] of [["program", byProgram], ["vintage", byVintage]] as const) {
    for (const [key, members] of map) {
      const _id = `${level}:${key}:${date}`;
      groups.push({ updateOne: { filter: { _id }, update: { $setOnInsert: { level, key, business_date: date, metrics: groupMetrics(date, members) } }, upsert: true } });
    }
  }
  if (groups.length) await models.group_metrics.collection.bulkWrite(groups, { ordered: false });
  phases_ms.programs_vintages = Date.now() - started - phases_ms.read - phases_ms.portfolios;
  const counts = { loans, portfolios: byPortfolio.size, programs: byProgram.size, vintages: byVintage.size };
  const duration_ms = Date.now() - started;
  await models.snapshot_runs.collection.updateOne({ _id: date as any }, { $set: { status: "completed", counts, duration_ms } }, { upsert: true });
  return { business_date: date, counts, duration_ms, phases_ms };
}

function push(map: Map<string, ProjectedLoan[]>, key: string, p: ProjectedLoan) {
  const list = map.get(key);
  if (list) list.push(p);
  else map.set(key, [p]);
}

/** The rows a snapshot saw: exact `_id` reads of its chunks. */
export async function rowsOf(models: SnapshotModels, snapshot: any): Promise<any[]> {
  const ids = Array.from({ length: snapshot.row_chunks ?? 0 }, (_, i) => `${snapshot._id}:${snapshot.rows_token}:${i}`);
  if (!ids.length) return [];
  const docs = await models.snapshot_rows.collection.find({ _id: { $in: ids as any[] } }).toArray();
  const byId = new Map(docs.map((d: any) => [d._id, d]));
  return ids.flatMap((id) => {
    const doc: any = byId.get(id);
    return doc ? JSON.parse(doc.rows_json) : [];
  });
}

/**
 * A page of the rows a snapshot saw, from `offset`, as many whole rows as fit in `maxBytes` of
 * JSON (at least one): what a tape reads, so no answer outgrows a NATS message and no reader holds
 * the whole portfolio. Reads only the chunks the page spans, by `_id`.
 */
export async function rowsPage(
  models: SnapshotModels,
  snapshot: any,
  offset: number,
  maxBytes: number,
  /** The last chunk read: the next page usually starts in it. */
  cache: { id?: string; rows?: any[] } = {},
): Promise<{ rows: any[]; next_offset: number | null }> {
  const chunks = snapshot.row_chunks ?? 0;
  const rows: any[] = [];
  let bytes = 0;
  let at = offset;
  for (let n = Math.floor(offset / ROWS_PER_CHUNK); n < chunks; n++) {
    const id = `${snapshot._id}:${snapshot.rows_token}:${n}`;
    if (cache.id !== id) {
      const doc: any = await models.snapshot_rows.collection.findOne({ _id: id as any });
      Object.assign(cache, { id, rows: doc ? JSON.parse(doc.rows_json) : [] });
    }
    const chunkRows: any[] = cache.rows!;
    for (let i = at - n * ROWS_PER_CHUNK; i < chunkRows.length; i++) {
      const size = Buffer.byteLength(JSON.stringify(chunkRows[i])) + 1;
      if (rows.length && bytes + size > maxBytes) return { rows, next_offset: at };
      rows.push(chunkRows[i]);
      bytes += size;
      at++;
    }
  }
  return { rows, next_offset: null };
}
