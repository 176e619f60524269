/**
 * Taking snapshots (DESIGN.md §4, §10): the members of a portfolio on D from the projection, their
 * §4 metrics (shared/snapshots/group-metrics.ts), the rows they were computed from, and the
 * snapshot itself inserted last under its unique `_id` — so a snapshot exists only with all its
 * rows, a second take of (portfolio, D) returns the first, and nothing rewrites it.
 *
 * The daily job reads the projection once, in one streamed pass: each loan is parsed once and
 * counted in the cell of its (portfolio, program, vintage), its row kept as a JSON string; the
 * cells are then summed into portfolios, programs and vintages, and the portfolios' rows and
 * snapshots written with bounded concurrency.
 */
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { deflateRaw, inflateRawSync, constants as zlibConstants } from "node:zlib";
import { Binary } from "mongodb";
import type { Model } from "mongoose";
import { laterDate, loanFigures, originatedBy, portfolioOn, positionDate, positionsAsOf, rowFlows, type CashFlowEntry, type LoanFigures, type ProjectedLoan } from "../../shared/snapshots/loan-projection";
import { addParsed, buyerView, groupMetrics, parseLoan, type SaleTerms } from "../../shared/snapshots/group-metrics";
import { SnapshotMetricsAccumulator, type SnapshotMetrics } from "../../shared/finance";
import { BusinessRuleError } from "../../shared/errors";
import { toProjected, type StoredLoan } from "./projection-store";

export interface SnapshotModels {
  snapshot_loans: Model<any>;
  snapshot_portfolios: Model<any>;
  snapshots: Model<any>;
  snapshot_rows: Model<any>;
  group_metrics: Model<any>;
  snapshot_runs: Model<any>;
}

export type SnapshotKind = "daily" | "adhoc" | "sale";
/**
 * A chunk document holds up to this many rows, or about this many characters of them. The daily
 * job writes the rows as they stream by — every portfolio's pending rows after each
 * FLUSH_EVERY loans read — instead of holding the whole book's rows (~1 KB a loan) to the end:
 * rows that live briefly cost the garbage collector little, a book's worth held costs seconds.
 */
const ROWS_PER_CHUNK = 5000;
const CHARS_PER_CHUNK = 1_000_000;
const FLUSH_EVERY = 5000;
/** Chunk inserts in flight at once during the daily pass. */
const CHUNK_WRITES_IN_FLIGHT = 4;
const READ_BATCH = 5000;

const deflate = promisify(deflateRaw);

/**
 * A chunk document: its rows as one JSON array, deflated (zlib, fastest level — rows of a book
 * compress about tenfold, so the wire server holds a tenth of them; compression runs on libuv's
 * thread pool, beside the job). `rows_json` (plain) is how older chunks were stored; both read.
 */
export async function chunkDoc(_id: string, rowsJson: string): Promise<{ _id: string; rows_z: Binary }> {
  return { _id, rows_z: new Binary(await deflate(Buffer.from(rowsJson, "utf8"), { level: zlibConstants.Z_BEST_SPEED })) };
}

export function chunkRows(doc: any): any[] {
  if (doc.rows_z) return JSON.parse(inflateRawSync(doc.rows_z.buffer).toString("utf8"));
  return JSON.parse(doc.rows_json);
}

export function snapshotId(portfolioId: string, date: string, kind: SnapshotKind): string {
  return kind === "sale" ? `${portfolioId}:${date}:sale` : `${portfolioId}:${date}`;
}

/** Every stored loan, streamed (the one read of the projection a day's job makes). */
export async function readStored(model: Model<any>, onLoan: (doc: StoredLoan) => Promise<void> | void): Promise<number> {
  let n = 0;
  for await (const doc of model.collection.find({}).batchSize(READ_BATCH)) {
    // A promise back means "wait": the consumer's writes are at their bound.
    const wait = onLoan(doc as unknown as StoredLoan);
    if (wait) await wait;
    n++;
  }
  return n;
}

/**
 * The projected loans in `portfolioId` on `date`: one scan of the membership spans only, then
 * the members by `_id` — an ad-hoc snapshot does not read every loan's figures.
 */
export async function readMembers(model: Model<any>, portfolioId: string, date: string): Promise<ProjectedLoan[]> {
  const ids: string[] = [];
  for await (const doc of model.collection.find({}, { projection: { spans: 1 } }).batchSize(20_000)) {
    if (portfolioOn({ spans: (doc as any).spans ?? [] }, date) === portfolioId) ids.push(String(doc._id));
  }
  return readLoans(model, ids);
}

export async function readLoans(model: Model<any>, ids: string[]): Promise<ProjectedLoan[]> {
  const out: ProjectedLoan[] = [];
  for (let i = 0; i < ids.length; i += READ_BATCH) {
    const docs = await model.collection.find({ _id: { $in: ids.slice(i, i + READ_BATCH) as any[] } }).toArray();
    for (const d of docs) out.push(toProjected(d as any, String(d._id)));
  }
  return out;
}

/** A loan as a snapshot row: what the tapes service reads (DESIGN.md §11 reconciliation). */
export function rowOf(p: ProjectedLoan, date: string) {
  return { loan_id: p._id, version: p.version, attributes: p.attributes, state: p.state, cash_flows: rowFlows(p.flows, date) };
}

/**
 * `JSON.stringify(rowOf(p, date))` of a stored loan, reusing its stored JSON of the attributes
 * and position (`flows`: its parsed cash flows).
 */
export function storedRowJson(doc: StoredLoan, flows: readonly CashFlowEntry[], date: string): string {
  if (typeof doc.attributes_json !== "string" || typeof doc.state_json !== "string") return JSON.stringify(rowOf(toProjected(doc, doc._id), date));
  return `{"loan_id":${JSON.stringify(doc._id)},"version":${JSON.stringify(doc.version ?? 0)},"attributes":${doc.attributes_json},"state":${doc.state_json},"cash_flows":${JSON.stringify(rowFlows(flows, date))}}`;
}

interface Row {
  loan_id: string;
  json: string;
}

/** Rows as chunk bodies: JSON arrays of up to a few hundred rows each. */
export function rowChunks(rows: readonly Row[]): string[] {
  const chunks: string[] = [];
  let part: string[] = [];
  let chars = 0;
  for (const { json } of rows) {
    if (part.length && (part.length >= ROWS_PER_CHUNK || chars + json.length > CHARS_PER_CHUNK)) {
      chunks.push(`[${part.join(",")}]`);
      part = [];
      chars = 0;
    }
    part.push(json);
    chars += json.length + 1;
  }
  if (part.length) chunks.push(`[${part.join(",")}]`);
  return chunks;
}

export async function saleOf(models: SnapshotModels, portfolioId: string): Promise<SaleTerms | null> {
  const doc: any = await models.snapshot_portfolios.collection.findOne({ _id: portfolioId as any });
  return doc?.sale ?? null;
}

interface SnapshotContent {
  portfolio_id: string;
  date: string;
  kind: SnapshotKind;
  metrics: SnapshotMetrics;
  buyer: ReturnType<typeof buyerView> | null;
  /** The latest date of the positions counted. */
  positions_as_of: string | null;
  rows: readonly Row[];
  /** Chunks the daily pass already wrote under `token` (their rows are not in `rows`). */
  written?: { token: string; chunks: number };
}

function newToken(): string {
  return randomUUID().slice(0, 8);
}

function chunkId(snapshot: string, token: string, n: number): string {
  return `${snapshot}:${token}:${n}`;
}

/** Inserts a snapshot (rows first, the snapshot last), or returns the one already taken. */
async function writeSnapshot(models: SnapshotModels, input: SnapshotContent) {
  const _id = snapshotId(input.portfolio_id, input.date, input.kind);
  const existing = await models.snapshots.collection.findOne({ _id: _id as any });
  if (existing) {
    // Taken meanwhile (an ad-hoc take during the daily pass): the chunks the pass wrote go.
    const written = input.written;
    if (written?.chunks) await models.snapshot_rows.collection.deleteMany({ _id: { $in: Array.from({ length: written.chunks }, (_, n) => chunkId(_id, written.token, n)) as any[] } });
    return existing;
  }
  const token = input.written?.token ?? newToken();
  const first = input.written?.chunks ?? 0;
  // One deflated JSON array per chunk: the wire server stores one value far faster than nested documents.
  const chunks = await Promise.all(rowChunks(input.rows).map((rows, n) => chunkDoc(chunkId(_id, token, first + n), rows)));
  if (chunks.length) await models.snapshot_rows.collection.insertMany(chunks as any[], { ordered: false });
  const all = Array.from({ length: first + chunks.length }, (_, n) => chunkId(_id, token, n));
  const doc = {
    _id,
    portfolio_id: input.portfolio_id,
    business_date: input.date,
    kind: input.kind,
    ...input.metrics,
    buyer: input.buyer,
    positions_as_of: input.positions_as_of,
    rows_token: token,
    row_chunks: all.length,
    taken_at: new Date().toISOString(),
  };
  try {
    await models.snapshots.collection.insertOne(doc as any);
    return doc;
  } catch (err: any) {
    if (err?.code !== 11000) throw err;
    // Another take won the race: its snapshot stands, these rows go.
    if (all.length) await models.snapshot_rows.collection.deleteMany({ _id: { $in: all as any[] } });
    return models.snapshots.collection.findOne({ _id: _id as any });
  }
}

function buyerOf(sale: SaleTerms | null, members: readonly Pick<ProjectedLoan, "_id" | "flows">[], date: string) {
  return sale && sale.sale_date <= date ? buyerView(sale, members, date) : null;
}

/**
 * Takes (or returns) the snapshot of one portfolio on `date` from the members given (the loans the
 * projection places in the portfolio on `date`; a sale's: the loans sold).
 */
export async function takeFromMembers(models: SnapshotModels, input: { portfolio_id: string; date: string; kind: SnapshotKind; members: ProjectedLoan[]; sale: SaleTerms | null }) {
  const members = input.members.filter((m) => m.state && m.attributes);
  return writeSnapshot(models, {
    portfolio_id: input.portfolio_id,
    date: input.date,
    kind: input.kind,
    metrics: groupMetrics(input.date, members),
    buyer: buyerOf(input.sale, members, input.date),
    positions_as_of: positionsAsOf(members),
    rows: members.map((m) => ({ loan_id: m._id, json: JSON.stringify(rowOf(m, input.date)) })),
  });
}

/**
 * The snapshot of one portfolio on `date` (ad hoc, or the sale's). The projection keeps only the
 * newest position of each loan, so an ad-hoc snapshot for a date before the members' positions
 * would show balances of a later day: it is refused (422) unless it was taken on its date (then
 * that one is returned, as ever). The sale's is taken from the positions the sale itself priced.
 */
export async function takeOne(models: SnapshotModels, portfolioId: string, date: string, kind: SnapshotKind, onlyLoans?: string[]) {
  const existing = await models.snapshots.collection.findOne({ _id: snapshotId(portfolioId, date, kind) as any });
  if (existing) return existing;
  const members = onlyLoans ? await readLoans(models.snapshot_loans, [...new Set(onlyLoans)]) : await readMembers(models.snapshot_loans, portfolioId, date);
  if (kind === "adhoc") {
    const latest = positionsAsOf(members.filter((m) => m.state && m.attributes));
    if (latest && latest > date) {
      throw new BusinessRuleError(
        `the positions of portfolio ${portfolioId}'s loans are as of ${latest}, after ${date}: a snapshot for ${date} can no longer be taken (positions are kept without history; snapshots taken on their date stay)`,
        "positions_after_date",
        { portfolio_id: portfolioId, business_date: date, positions_as_of: latest },
      );
    }
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
 * A portfolio's part of the daily pass: its metrics, the latest position date, a sold one's
 * loans, and its rows — written a chunk at a time as they fill when the portfolio was known
 * (and not yet snapshotted for D) before the pass, else held to the end.
 */
class PortfolioDay {
  rows: Row[] = [];
  rowChars = 0;
  readonly acc: SnapshotMetricsAccumulator;
  /** Set before the pass for a portfolio whose rows may be written as they come. */
  stream: { snapshot: string; token: string; chunks: number } | null = null;
  /** Already snapshotted for D: nothing to write. */
  taken = false;
  positionsAsOf: string | null = null;
  /** Only for a portfolio sold on or before D: the buyer's view reads its loans' flows. */
  readonly sold: Pick<ProjectedLoan, "_id" | "flows">[] | null;
  constructor(
    date: string,
    readonly sale: SaleTerms | null,
  ) {
    this.acc = new SnapshotMetricsAccumulator(date);
    this.sold = sale && sale.sale_date <= date ? [] : null;
  }
}

/**
 * Writes started in order with at most `limit` in flight: `add` answers a promise to wait on
 * when the bound is reached (else undefined); `drain` waits for all and throws the first error.
 */
class BoundedWrites {
  private readonly inFlight = new Set<Promise<unknown>>();
  private failure: unknown = null;
  constructor(private readonly limit: number) {}
  add(write: () => Promise<unknown>): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    const p: Promise<unknown> = write().then(
      () => this.inFlight.delete(p),
      (err) => {
        this.inFlight.delete(p);
        this.failure ??= err;
      },
    );
    this.inFlight.add(p);
    return this.inFlight.size >= this.limit ? Promise.race(this.inFlight).then(() => undefined) : undefined;
  }
  async drain(): Promise<void> {
    await Promise.all(this.inFlight);
    if (this.failure) throw this.failure;
  }
}

/** The accumulator of `key` in `map`, made on first use. */
function accIn(map: Map<string, SnapshotMetricsAccumulator>, key: string, date: string): SnapshotMetricsAccumulator {
  let acc = map.get(key);
  if (!acc) map.set(key, (acc = new SnapshotMetricsAccumulator(date)));
  return acc;
}

/**
 * The daily `snapshots` job for D: one snapshot per known portfolio, program and vintage metrics
 * (loans disbursed on or before D), all from one streamed pass over the projection. A loan is
 * parsed once and counted in its cell — (portfolio, program, vintage) — and the cells are summed
 * into the groups after the pass, so the decimal sums per loan are made once, not three times.
 * Idempotent per D.
 */
export async function runDaily(models: SnapshotModels, date: string, opts: { concurrency?: number } = {}) {
  const started = Date.now();
  const phases_ms: Record<string, number> = {};
  const done: any = await models.snapshot_runs.collection.findOne({ _id: date as any });
  if (done?.status === "completed") return { business_date: date, counts: done.counts, duration_ms: done.duration_ms, repeated: true };
  const portfolios = (await models.snapshot_portfolios.collection.find({}).toArray()) as any[];
  const byPortfolio = new Map<string, PortfolioDay>(portfolios.map((p) => [String(p._id), new PortfolioDay(date, (p.sale as SaleTerms) ?? null)]));
  await eachLimited([...byPortfolio.entries()], 8, async ([pid, day]) => {
    const snapshot = snapshotId(pid, date, "daily");
    if (await models.snapshots.collection.findOne({ _id: snapshot as any }, { projection: { _id: 1 } })) day.taken = true;
    else day.stream = { snapshot, token: newToken(), chunks: 0 };
  });
  const writer = new BoundedWrites(CHUNK_WRITES_IN_FLIGHT);
  const pending = new Set<PortfolioDay>();
  const flush = (days: Iterable<PortfolioDay>) => {
    const docs: Promise<any>[] = [];
    for (const day of days) {
      const s = day.stream!;
      docs.push(chunkDoc(chunkId(s.snapshot, s.token, s.chunks++), `[${day.rows.map((r) => r.json).join(",")}]`));
      day.rows = [];
      day.rowChars = 0;
      pending.delete(day);
    }
    return docs.length ? writer.add(async () => models.snapshot_rows.collection.insertMany(await Promise.all(docs), { ordered: false })) : undefined;
  };
  let seen = 0;
  const cells = new Map<string, { portfolio: string | null; program: string | null; vintage: string | null; acc: SnapshotMetricsAccumulator }>();
  // Where the pass spends its time: parsing and counting, building and handing over rows, and
  // (the rest) waiting for the projection's batches and for the row writes' bound.
  let countMs = 0;
  let rowsMs = 0;
  const loans = await readStored(models.snapshot_loans, (doc) => {
    const t = performance.now();
    let r = t;
    let wait: Promise<void> | undefined;
    let figures: LoanFigures | null | undefined = doc.figures;
    let flows: CashFlowEntry[];
    if (figures === undefined || typeof doc.flows_json !== "string") {
      const p = toProjected(doc, doc._id); // the older shape
      figures = loanFigures(p);
      flows = p.flows;
    } else flows = figures ? JSON.parse(doc.flows_json) : [];
    if (figures) {
      const pid = portfolioOn({ spans: doc.spans ?? [] }, date);
      const originated = originatedBy(figures, date);
      if (pid || originated) {
        const program = originated ? figures.program_id : null;
        const vintage = originated ? figures.vintage : null;
        const key = `${pid ?? ""}\u0000${program ?? ""}\u0000${vintage ?? ""}`;
        let cell = cells.get(key);
        if (!cell) cells.set(key, (cell = { portfolio: pid, program, vintage, acc: new SnapshotMetricsAccumulator(date) }));
        addParsed(cell.acc, parseLoan(doc._id, figures, flows));
      }
      r = performance.now();
      if (pid) {
        let day = byPortfolio.get(pid);
        if (!day) byPortfolio.set(pid, (day = new PortfolioDay(date, null)));
        day.positionsAsOf = laterDate(day.positionsAsOf, positionDate(figures));
        day.sold?.push({ _id: doc._id, flows });
        if (!day.taken) {
          const json = storedRowJson(doc, flows, date);
          day.rows.push({ loan_id: doc._id, json });
          day.rowChars += json.length + 1;
          if (day.stream) {
            pending.add(day);
            if (day.rows.length >= ROWS_PER_CHUNK || day.rowChars >= CHARS_PER_CHUNK) wait = flush([day]);
          }
        }
      }
    }
    if (++seen % FLUSH_EVERY === 0) wait = flush([...pending]) ?? wait;
    const end = performance.now();
    countMs += r - t;
    rowsMs += end - r;
    return wait;
  });
  await writer.drain();
  phases_ms.read_and_wait = Date.now() - started - Math.round(countMs + rowsMs);
  phases_ms.parse_and_count = Math.round(countMs);
  phases_ms.rows = Math.round(rowsMs);

  let t = Date.now();
  const byProgram = new Map<string, SnapshotMetricsAccumulator>();
  const byVintage = new Map<string, SnapshotMetricsAccumulator>();
  for (const cell of cells.values()) {
    if (cell.portfolio) byPortfolio.get(cell.portfolio)!.acc.merge(cell.acc);
    if (cell.program !== null) accIn(byProgram, cell.program, date).merge(cell.acc);
    if (cell.vintage !== null) accIn(byVintage, cell.vintage, date).merge(cell.acc);
  }
  const groups: any[] = [];
  for (const [level, map] of [["program", byProgram], ["vintage", byVintage]] as const) {
    for (const [key, acc] of map) {
      const _id = `${level}:${key}:${date}`;
      groups.push({ updateOne: { filter: { _id }, update: { $setOnInsert: { level, key, business_date: date, metrics: acc.result() } }, upsert: true } });
    }
  }
  phases_ms.sum_groups = Date.now() - t;

  t = Date.now();
  await eachLimited([...byPortfolio.entries()].filter(([, day]) => !day.taken), opts.concurrency ?? 8, ([pid, day]) =>
    writeSnapshot(models, {
      portfolio_id: pid,
      date,
      kind: "daily",
      metrics: day.acc.result(),
      buyer: day.sold && buyerOf(day.sale, day.sold, date),
      positions_as_of: day.positionsAsOf,
      rows: day.rows,
      written: day.stream ? { token: day.stream.token, chunks: day.stream.chunks } : undefined,
    }),
  );
  if (groups.length) await models.group_metrics.collection.bulkWrite(groups, { ordered: false });
  phases_ms.snapshots_written = Date.now() - t;
  const counts = { loans, portfolios: byPortfolio.size, programs: byProgram.size, vintages: byVintage.size };
  const duration_ms = Date.now() - started;
  await models.snapshot_runs.collection.updateOne({ _id: date as any }, { $set: { status: "completed", counts, duration_ms } }, { upsert: true });
  return { business_date: date, counts, duration_ms, phases_ms };
}

/** The rows a snapshot saw: exact `_id` reads of its chunks. */
export async function rowsOf(models: SnapshotModels, snapshot: any): Promise<any[]> {
  const ids = Array.from({ length: snapshot.row_chunks ?? 0 }, (_, i) => `${snapshot._id}:${snapshot.rows_token}:${i}`);
  if (!ids.length) return [];
  const docs = await models.snapshot_rows.collection.find({ _id: { $in: ids as any[] } }).toArray();
  const byId = new Map(docs.map((d: any) => [d._id, d]));
  const rows = ids.flatMap((id) => {
    const doc: any = byId.get(id);
    return doc ? chunkRows(doc) : [];
  });
  // The daily job writes rows in the order the projection streams: they are answered by loan id.
  return rows.sort((a: any, b: any) => (a.loan_id < b.loan_id ? -1 : a.loan_id > b.loan_id ? 1 : 0));
}

/** A page cursor: chunk number and row within it (chunks hold at most ROWS_PER_CHUNK rows). */
const CURSOR_STRIDE = 1_000_000;

/**
 * A page of the rows a snapshot saw, from `offset` (0, or a page's `next_offset`), as many whole
 * rows as fit in `maxBytes` of JSON (at least one): what a tape reads, so no answer outgrows a
 * NATS message and no reader holds the whole portfolio. Rows come in stored order (the order the
 * daily pass streamed them); the offset is a cursor (chunk × 1,000,000 + row), increasing.
 * Reads only the chunks the page spans, by `_id`.
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
  let first = offset % CURSOR_STRIDE;
  for (let n = Math.floor(offset / CURSOR_STRIDE); n < chunks; n++, first = 0) {
    const id = chunkId(snapshot._id, snapshot.rows_token, n);
    if (cache.id !== id) {
      const doc: any = await models.snapshot_rows.collection.findOne({ _id: id as any });
      Object.assign(cache, { id, rows: doc ? chunkRows(doc) : [] });
    }
    const inChunk: any[] = cache.rows!;
    for (let i = first; i < inChunk.length; i++) {
      const size = Buffer.byteLength(JSON.stringify(inChunk[i])) + 1;
      if (rows.length && bytes + size > maxBytes) return { rows, next_offset: n * CURSOR_STRIDE + i };
      rows.push(inChunk[i]);
      bytes += size;
    }
  }
  return { rows, next_offset: null };
}
