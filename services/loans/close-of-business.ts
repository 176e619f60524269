/**
 * The close-of-business driver (DESIGN.md §8): owns chunking, writes and checkpoints; the steps
 * themselves are pure (shared/loans/close-of-business.ts).
 *
 * - Work is split into units (sets of the loans' partition numbers). An instance claims a unit for
 *   D with an expiring lease in `loan_close_units`; a dead instance's unit is taken over when its
 *   lease expires, and the taker resumes: every loan records `closed_through`, so what was closed
 *   is skipped — never accrued twice, never fined twice. An instance closes `concurrency` units
 *   at once.
 * - A unit streams its open loans with a cursor, in chunks: compute each loan's close, record the
 *   chunk's states in `loan_close_chunks`, write the chunk in ONE bulk write (each update guarded
 *   by its loan's version), publish ONE `loan.close.batch` event with the chunk's states, then the
 *   few per-loan side writes (late fees, charge-offs, rate changes, statements) and count the chunk
 *   on its unit. Memory is one chunk per unit in progress.
 * - A crash after the bulk write leaves a chunk recorded but not counted: the rerun announces it
 *   (again: the event id is the chunk's) and finishes its side writes first.
 * - On the embedded wire server only `_id` or an exact unique key is a lookup: every read and
 *   write here is one, except one query per unit for its open loans (a scan of the book per unit,
 *   not per chunk) and the small units collection.
 * - A loan that a payment changed under the chunk (version moved) is closed on its own, through
 *   the store's ordinary write path.
 */
import { ObjectId } from "mongodb";
import type { Model } from "mongoose";
import { isDuplicateKey } from "../../shared/db/crud";
import { LoanEvents, type LoanCloseBatchEvent, type LoanStatus } from "../../shared/contracts/loans";
import { nextResetDate } from "../../shared/finance";
import { closeLoan, type CloseOutcome } from "../../shared/loans/close-of-business";
import { failpoint } from "../../shared/runtime/failpoints";
import { whileBatch } from "../../shared/runtime/gc-tuning";
import { change, type OpContext } from "./change";
import { storedPending, type LoadedLoan, type LoanStore, type MutationPlan, type PublishMany, type ScheduleDoc } from "./loan-store";
import { attributesOf, ledgerDoc, transactionView } from "./loan-views";
import { decodeLoan, encodeLoanFields } from "./stored-loan";

export interface CloseModels {
  loans: Model<any>;
  loan_schedules: Model<any>;
  loan_close_runs: Model<any>;
  loan_close_units: Model<any>;
  loan_close_chunks: Model<any>;
  loan_bucket_moves: Model<any>;
}

/** A bucket move of the close, in loan_bucket_moves (see models.ts). */
export interface BucketMoveDoc {
  _id: string;
  loan_id: string;
  seq: number;
  record: Record<string, unknown>;
}

export interface CloseOptions {
  units: number;
  partitions: number;
  chunkSize: number;
  leaseMs: number;
  /** Units this instance closes at once (default 1). */
  concurrency?: number;
  nodeId: string;
  /** The index rate of `index` on `date`, or null before its first observation. */
  indexRateOn: (index: string, date: string) => Promise<string | null>;
  publish: (subject: string, id: string, payload: unknown) => Promise<void>;
  /** The side writes' events of a chunk in one outbox write (optional: else one by one). */
  publishMany?: PublishMany;
  logger: { info(...a: unknown[]): void; warn(...a: unknown[]): void; error(...a: unknown[]): void };
  onProgress?: (p: { business_date: string; unit: number; loans: number }) => void;
}

export interface CloseCounts {
  loans: number;
  rate_changes: number;
  statements: number;
  late_fees: number;
  charged_off: number;
  status_changes: number;
  inline: number;
  errors: number;
}

const zeroCounts = (): CloseCounts => ({ loans: 0, rate_changes: 0, statements: 0, late_fees: 0, charged_off: 0, status_changes: 0, inline: 0, errors: 0 });
const OPEN: LoanStatus[] = ["active", "delinquent"];
/**
 * A chunk record serves only a resume of its own date's close, and a completed close has no unit
 * left to claim: D-1's are kept a day for a look after the fact, older ones go. (Seven days held
 * ~420 B of chunk records per loan on the wire server, a tenth of the loan itself.)
 */
const CHUNK_RETENTION_DAYS = 1;
/** What a resumed chunk reads back from its loans (attributesOf's fields, the position, the marks). */
const RESUME_FIELDS = { close_chunk: 1, pending: 1, version: 1, position: 1, state: 1, annual_rate: 1, config: 1, request: 1, borrower: 1, external_id: 1, product_id: 1, program_id: 1, program_type: 1, disbursement_date: 1, origination_date: 1, maturity_date: 1 };

interface ChunkRecord {
  _id: string;
  business_date: string;
  unit: number;
  chunk: number;
  loans: { loan_id: string; version: number }[];
}

export function addCounts(a: CloseCounts, b: Partial<CloseCounts>): CloseCounts {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) (out as any)[k] = ((out as any)[k] ?? 0) + (v ?? 0);
  return out;
}

export class CloseOfBusiness {
  constructor(
    private readonly models: CloseModels,
    private readonly store: LoanStore,
    private readonly opts: CloseOptions,
  ) {}

  /** The partition numbers of a unit. */
  partitionsOf(unit: number): number[] {
    const out: number[] = [];
    for (let p = unit; p < this.opts.partitions; p += this.opts.units) out.push(p);
    return out;
  }

  /**
   * Works on D until every unit is done: claims free or expired units, closes them, and waits
   * for units others hold. Resolves with the run's counts (every unit's).
   */
  run(date: string, stopSignal?: () => boolean): Promise<CloseCounts> {
    return whileBatch(() => this.runUnits(date, stopSignal));
  }

  private async runUnits(date: string, stopSignal?: () => boolean): Promise<CloseCounts> {
    await this.models.loan_close_runs.updateOne({ _id: date }, { $setOnInsert: { business_date: date, status: "started", started_at: new Date(), units: this.opts.units } }, { upsert: true });
    for (;;) {
      if (stopSignal?.()) throw new Error("stopping");
      let progressed = false;
      // `concurrency` units at a time: while one unit's chunk is computed here, another's writes
      // are in the database (on two cores the close otherwise alternates between the two).
      const order = this.unitOrder();
      const worker = async () => {
        for (let unit = order.shift(); unit !== undefined; unit = order.shift()) {
          if (stopSignal?.()) return;
          if (await this.claim(date, unit)) {
            progressed = true;
            await this.closeUnit(date, unit);
          }
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, this.opts.concurrency ?? 1) }, worker));
      const units = await this.models.loan_close_units.find({ _id: { $in: this.unitIds(date) } }).lean();
      const done = units.filter((u: any) => u.done);
      if (done.length === this.opts.units) {
        const counts = done.reduce((c: CloseCounts, u: any) => addCounts(c, u.counts ?? {}), zeroCounts());
        await this.models.loan_close_runs.updateOne({ _id: date }, { $set: { status: "completed", completed_at: new Date(), counts } });
        await this.purgeChunks(date);
        return counts;
      }
      // Units held by live instances: wait for them, or for their leases to expire.
      if (!progressed) await new Promise((r) => setTimeout(r, Math.min(500, this.opts.leaseMs / 4)));
    }
  }

  /**
   * Chunk records are needed only to resume their own date's close: those of dates more than
   * CHUNK_RETENTION_DAYS before D go (one delete per completed close; else they pile up, one per
   * 500 loans per day, ~19 KB each).
   */
  private async purgeChunks(date: string): Promise<void> {
    const before = new Date(Date.parse(`${date}T00:00:00Z`) - CHUNK_RETENTION_DAYS * 86_400_000).toISOString().slice(0, 10);
    await this.models.loan_close_chunks.deleteMany({ business_date: { $lt: before } }).catch((err) => this.opts.logger.warn(`close of business ${date}: purging old chunk records failed: ${err?.message ?? err}`));
  }

  private unitIds(date: string): string[] {
    return Array.from({ length: this.opts.units }, (_, u) => `${date}:${u}`);
  }

  /** A different starting unit per node, so instances spread out before they collide. */
  private unitOrder(): number[] {
    let h = 0;
    for (const c of this.opts.nodeId) h = (h * 31 + c.charCodeAt(0)) >>> 0;
    const start = h % this.opts.units;
    return Array.from({ length: this.opts.units }, (_, i) => (start + i) % this.opts.units);
  }

  /** Takes unit `u` of D if it is free, expired, or already ours; false when another holds it or it is done. */
  private async claim(date: string, unit: number): Promise<boolean> {
    const now = new Date();
    const id = `${date}:${unit}`;
    const lease = { owner: this.opts.nodeId, expires_at: new Date(now.getTime() + this.opts.leaseMs) };
    try {
      const res = await this.models.loan_close_units.updateOne(
        { _id: id, done: false, $or: [{ owner: this.opts.nodeId }, { expires_at: { $lt: now } }] },
        { $set: lease },
      );
      if (res.matchedCount === 1) return true;
      await this.models.loan_close_units.create({ _id: id, business_date: date, unit, done: false, counts: zeroCounts(), chunks: 0, ...lease });
      return true;
    } catch (err: any) {
      if (err?.code === 11000) return false; // exists: done, or another instance's live lease
      throw err;
    }
  }

  async closeUnit(date: string, unit: number): Promise<void> {
    const unitId = `${date}:${unit}`;
    const unitDoc: any = await this.models.loan_close_units.findById(unitId).lean();
    let counts: CloseCounts = unitDoc?.counts ?? zeroCounts();
    // A unit counts chunk n once its batch event and side writes are done. A previous holder that
    // died after recording chunk n+1 may have written it without announcing it, or left its side
    // writes (late fees, charge-offs, rate changes) undone: both are finished before the unit goes
    // on, so a unit is done only when its loans' ledgers are. Every read here is by `_id`.
    let chunkNo: number = unitDoc?.chunks ?? 0;
    for (;;) {
      const next: any = await this.models.loan_close_chunks.collection.findOne({ _id: `${unitId}:${chunkNo + 1}` as any });
      if (!next) break;
      chunkNo++;
      await this.resumeChunk(next);
      await this.models.loan_close_units.updateOne({ _id: unitId }, { $set: { chunks: chunkNo } });
    }
    // The unit's open loans not closed through D yet: one query for the unit (the cursor's
    // result is read once; the embedded server scans the book once per unit, not per chunk).
    const cursor = this.models.loans.collection
      .find({ partition: { $in: this.partitionsOf(unit) }, status: { $in: OPEN }, $or: [{ closed_through: null }, { closed_through: { $lt: date } }] } as any)
      .batchSize(this.opts.chunkSize);
    let batch: any[] = [];
    const flush = async () => {
      if (!batch.length) return;
      chunkNo++;
      counts = addCounts(counts, await this.closeChunk(date, unit, chunkNo, batch));
      // Counting the chunk and renewing the lease in one write (the unit's `_id` and owner).
      const res = await this.models.loan_close_units.updateOne({ _id: unitId, owner: this.opts.nodeId }, { $set: { chunks: chunkNo, counts, expires_at: new Date(Date.now() + this.opts.leaseMs) } });
      if (res.matchedCount === 0) throw new Error(`lost the lease of close unit ${unitId}`);
      this.opts.onProgress?.({ business_date: date, unit, loans: counts.loans });
      batch = [];
    };
    try {
      for await (const doc of cursor) {
        batch.push(decodeLoan(doc));
        if (batch.length >= this.opts.chunkSize) await flush();
      }
      await flush();
    } finally {
      await cursor.close();
    }
    await this.models.loan_close_units.updateOne({ _id: unitId, owner: this.opts.nodeId }, { $set: { done: true, counts } });
  }

  /**
   * A chunk recorded by a holder that died before counting it: announces the loans it did write
   * (those whose `close_chunk` is this chunk; the event id is the chunk's, so announcing twice is
   * one event) and finishes their side writes. The record names the loans only: each one's
   * attributes and position are read back from the loan, which holds what the chunk wrote (or,
   * had a payment come since, a newer version, which consumers take as newer).
   */
  private async resumeChunk(chunk: ChunkRecord): Promise<void> {
    const ids = chunk.loans.map((l) => (ObjectId.isValid(l.loan_id) ? new ObjectId(l.loan_id) : l.loan_id));
    const docs: any[] = (await this.models.loans.collection.find({ _id: { $in: ids } } as any, { projection: RESUME_FIELDS }).toArray()).map(decodeLoan);
    const written = new Map(docs.filter((d) => d.close_chunk === chunk._id).map((d) => [String(d._id), d]));
    const loans = chunk.loans.filter((l) => written.has(l.loan_id)).map((l) => {
      const d = written.get(l.loan_id);
      return { loan_id: l.loan_id, version: d.version, attributes: attributesOf(d), state: d.position };
    });
    await this.announce({ ...chunk, loans });
    await this.store.finishMany([...written.values()].filter((d) => d.pending).map((d) => ({ loanId: String(d._id), pending: d.pending })), this.opts.publishMany);
  }

  /** The chunk's loans before its write (ids and new versions: a few bytes a loan, not its state). */
  private async recordChunk(chunk: ChunkRecord): Promise<void> {
    try {
      await this.models.loan_close_chunks.collection.insertOne(chunk as any);
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      await this.models.loan_close_chunks.collection.replaceOne({ _id: chunk._id } as any, chunk);
    }
  }

  /** One chunk: compute, record, one bulk write, one batch event, then the per-loan side writes. */
  private async closeChunk(date: string, unit: number, chunk: number, docs: any[]): Promise<Partial<CloseCounts>> {
    const counts = zeroCounts();
    const chunkId = `${date}:${unit}:${chunk}`;
    const indexRates = await this.indexRatesFor(docs, date);
    const prepared: { doc: any; plan: MutationPlan; version: number; set: Record<string, unknown>; pending: any; outcome: CloseOutcome }[] = [];
    const alone: any[] = [];
    const schedules: ScheduleDoc[] = [];
    const bucketMoves: BucketMoveDoc[] = [];
    const rows = await this.store.schedulesOf(docs);
    for (const doc of docs) {
      if (doc.pending || doc.close_error) {
        alone.push(doc);
        continue;
      }
      try {
        const loaded = await this.store.loadedOf(doc, rows);
        const { plan, outcome, bucketMove } = closePlan(loaded, date, (i, d) => indexRates.get(`${i}:${d}`) ?? null);
        const { version, set, pending } = await this.store.prepare(String(doc._id), loaded, plan, null, schedules);
        prepared.push({ doc, plan, version, set, pending, outcome });
        if (bucketMove) bucketMoves.push(bucketMove);
      } catch (err) {
        counts.errors++;
        await this.recordError(doc, date, err);
      }
    }
    const hasSideWrites = (p: (typeof prepared)[number]) => !!(p.plan.transactions?.length || p.plan.modifications?.length || p.plan.statements?.length || p.plan.events.length);
    const chunkLoans = prepared.map((p) => ({ loan_id: String(p.doc._id), version: p.version + 1, attributes: (p.plan.response as any).attributes, state: (p.plan.response as any).position }));
    if (prepared.length) {
      await this.recordChunk({ _id: chunkId, business_date: date, unit, chunk, loans: chunkLoans.map((l) => ({ loan_id: l.loan_id, version: l.version })) });
      // Before the loans that point at them (as prepare() would have written them one by one).
      await Promise.all([this.store.insertSchedules(schedules), this.writeBucketMoves(bucketMoves)]);
      const now = new Date();
      // The driver's own bulk write (no schema casting: the fields are the store's, as prepared).
      const res = await this.models.loans.collection.bulkWrite(
        prepared.map((p) => ({
          updateOne: {
            filter: { _id: p.doc._id, version: p.version },
            update: { $set: { ...encodeLoanFields(p.set), close_chunk: chunkId, pending: hasSideWrites(p) ? storedPending(p.pending) : null, version: p.version + 1, updated_at: now } },
          },
        })) as any,
        { ordered: false },
      );
      failpoint("loans.close.after-chunk-write");
      let committed = prepared;
      if (res.matchedCount !== prepared.length) {
        // Some loans changed under the chunk: those are closed on their own below.
        const now = await this.models.loans.find({ _id: { $in: prepared.map((p) => p.doc._id) } }, { close_chunk: 1, version: 1 }).lean();
        const ok = new Set(now.filter((d: any) => d.close_chunk === chunkId).map((d: any) => String(d._id)));
        committed = prepared.filter((p) => ok.has(String(p.doc._id)));
        for (const p of prepared) if (!ok.has(String(p.doc._id))) alone.push(p.doc);
      }
      const written = new Set(committed.map((c) => String(c.doc._id)));
      await this.announce({ _id: chunkId, business_date: date, unit, chunk, loans: chunkLoans.filter((l) => written.has(l.loan_id)) });
      await this.store.finishMany(committed.filter(hasSideWrites).map((p) => ({ loanId: String(p.doc._id), pending: p.pending })), this.opts.publishMany);
      for (const p of committed) {
        counts.loans++;
        count(counts, p.outcome, p.doc.status);
      }
    }
    for (const doc of alone) {
      try {
        const outcome = await this.closeInline(String(doc._id), date);
        counts.inline++;
        if (outcome) {
          counts.loans++;
          count(counts, outcome, doc.status);
        }
      } catch (err) {
        counts.errors++;
        await this.recordError(doc, date, err);
      }
    }
    return counts;
  }

  /**
   * The chunk's bucket moves, before the loan writes that count them (`bucket_seq`), as schedules
   * are: a move whose loan write then loses (a payment came first; the loan is closed on its own,
   * its move kept on the loan) is an orphan past the loan's `bucket_seq`, read by nobody and
   * replaced by the loan's next move of that number — hence a replace, not an insert.
   */
  private async writeBucketMoves(moves: BucketMoveDoc[]): Promise<void> {
    if (!moves.length) return;
    await this.models.loan_bucket_moves.collection.bulkWrite(moves.map((m) => ({ replaceOne: { filter: { _id: m._id }, replacement: m, upsert: true } })) as any, { ordered: false });
  }

  /** Publishes a chunk's batch event (dedupe by its id: announcing a chunk again is a no-op). */
  private async announce(chunk: { _id: string; business_date: string; unit: number; chunk: number; loans: LoanCloseBatchEvent["loans"] }): Promise<void> {
    if (chunk.loans.length) {
      const payload: LoanCloseBatchEvent = { event_id: `close:${chunk._id}`, business_date: chunk.business_date, partition: chunk.unit, chunk: chunk.chunk, occurred_at: new Date().toISOString(), loans: chunk.loans };
      await this.opts.publish(LoanEvents.closeBatch, payload.event_id, payload);
    }
  }

  /**
   * Closes one loan through D on its own (the ordinary write path, one event per change): a loan
   * that changed under its chunk, or one a write finds behind the last completed close.
   */
  async closeInline(loanId: string, date: string): Promise<CloseOutcome | null> {
    let outcome: CloseOutcome | null = null;
    const indexRates = new Map<string, string | null>();
    await this.store.mutate(loanId, async (loaded) => {
      outcome = null;
      const d = loaded.doc;
      if (!OPEN.includes(d.status) || (d.closed_through && d.closed_through >= date)) return noChange(loaded);
      const v = d.config.variable_rate;
      if (v && d.next_reset_date) {
        for (let on = d.next_reset_date; on <= date; on = nextResetDate(on, v.adjustment_frequency)) {
          if (!indexRates.has(`${v.index_name}:${on}`)) indexRates.set(`${v.index_name}:${on}`, await this.opts.indexRateOn(v.index_name, on));
        }
      }
      const r = closePlan(loaded, date, (i, on) => indexRates.get(`${i}:${on}`) ?? null, true);
      outcome = r.outcome;
      return r.plan;
    });
    await this.models.loans.updateOne({ _id: loanId, close_error: { $ne: null } }, { $set: { close_error: null } });
    return outcome;
  }

  private async indexRatesFor(docs: any[], date: string): Promise<Map<string, string | null>> {
    const wanted = new Set<string>();
    for (const d of docs) {
      const v = d.config?.variable_rate;
      if (!v || !d.next_reset_date) continue;
      for (let on = d.next_reset_date; on <= date; on = nextResetDate(on, v.adjustment_frequency)) wanted.add(`${v.index_name}\u0000${on}`);
    }
    const out = new Map<string, string | null>();
    for (const key of wanted) {
      const [index, on] = key.split("\u0000");
      out.set(`${index}:${on}`, await this.opts.indexRateOn(index, on));
    }
    return out;
  }

  /** A loan the close could not compute stays as it was, marked; writes to it answer 409 until a close succeeds. */
  private async recordError(doc: any, date: string, err: unknown): Promise<void> {
    const message = err instanceof Error ? err.message : String(err);
    this.opts.logger.error(`close of business ${date}: loan ${doc._id} failed: ${message}`);
    await this.models.loans.updateOne({ _id: doc._id }, { $set: { close_error: { business_date: date, message, at: new Date().toISOString() } } });
  }
}

function count(c: CloseCounts, o: CloseOutcome, before: LoanStatus): void {
  c.rate_changes += o.rate_changes.length;
  c.statements += o.statements.length;
  c.late_fees += o.fees.length;
  if (o.charge_off) c.charged_off++;
  if (o.status !== before) c.status_changes++;
}

function noChange(_loaded: LoadedLoan): MutationPlan {
  return { kind: "close_noop", set: {}, events: [], response: null };
}

/**
 * The close of one loan as a MutationPlan: the pure steps' outcome turned into the loan's new
 * fields, its ledger entries (late fees, charge-off), modifications, statements and per-loan
 * events. `withBatchEvent` adds a one-loan `loan.close.batch` (for a loan closed on its own).
 */
export function closePlan(
  loaded: LoadedLoan,
  date: string,
  indexRateOn: (index: string, date: string) => string | null,
  withBatchEvent = false,
): { plan: MutationPlan; outcome: CloseOutcome; bucketMove: BucketMoveDoc | null } {
  const d = loaded.doc;
  const loanId = String(d._id);
  const outcome = closeLoan(
    {
      loan_id: loanId,
      status: d.status,
      state: loaded.state!,
      config: d.config,
      next_reset_date: d.next_reset_date ?? null,
      next_statement_date: d.next_statement_date ?? null,
      late_fees: d.late_fees ?? [],
      principal_at_origination: d.request?.principal ?? d.request?.capitalized_cost ?? "0.00",
    },
    date,
    indexRateOn,
  );
  const ctx: OpContext = { today: date, now: new Date().toISOString(), actor: "close_of_business" };
  let seq = d.ledger_seq ?? 0;
  const transactions = outcome.fees.map((f) =>
    ledgerDoc(loanId, ++seq, { type: "fee", trade_date: date, amount: f.amount, components: { fees: f.amount }, fee_type: f.fee_type, booked_at: ctx.now, actor: ctx.actor }),
  );
  if (outcome.charge_off) {
    transactions.push(ledgerDoc(loanId, ++seq, { type: "charge_off", trade_date: date, amount: outcome.charge_off.amount, components: outcome.charge_off.components, booked_at: ctx.now, actor: ctx.actor }));
  }
  let modSeq = d.mod_seq ?? 0;
  const modifications = outcome.rate_changes.map((m) => ({ _id: `${loanId}:m${++modSeq}`, seq: modSeq, record: m }));
  let stSeq = d.statement_seq ?? 0;
  const statements = outcome.statements.map((s) => ({ _id: `${loanId}:s${++stSeq}`, seq: stSeq, record: { ...s, number: stSeq } }));
  const events: { subject: string; extra?: Record<string, unknown> }[] = [
    ...outcome.rate_changes.map((m, i) => ({ subject: LoanEvents.rateChanged, extra: { modification: { id: modifications[i]._id, effective_date: m.effective_date, old_rate: m.old_rate, new_rate: m.new_rate, index_name: m.index_name, index_value: m.index_value, reason: m.reason, actor: m.actor } } })),
    ...transactions.map((t) => ({ subject: LoanEvents.transactionBooked, extra: { transaction: transactionView(t), old_trade_date: null, new_trade_date: null, replayed_from: null } })),
  ];
  const plan = change(loaded, ctx, {
    kind: "close",
    state: outcome.state,
    status: outcome.status,
    statusReason: outcome.status_reason ?? undefined,
    set: {
      closed_through: date,
      close_error: null,
      late_fees: outcome.late_fees,
      next_reset_date: outcome.next_reset_date,
      next_statement_date: outcome.next_statement_date,
      ledger_seq: seq,
      mod_seq: modSeq,
      statement_seq: stSeq,
    },
    transactions,
    modifications,
    statements,
    events,
    // The driver reads the loan's attributes and position for the chunk's batch event from here.
    response: (after) => ({ attributes: after.attributes, position: after.position }),
  });
  // A version the close made with nothing else to say (no fee, reset, status move) is announced by
  // the batch event that carries it — the chunk's, or the one-loan batch below — not by a
  // per-loan `loan.updated` as well: that was one outbox record, one publish and one second
  // write of the loan (clearing `pending`) per loan per day.
  plan.events = plan.events.filter((e) => e.subject !== LoanEvents.updated);
  // In a chunk, a bucket move goes to loan_bucket_moves, written by the driver before the chunk's
  // loan write: the hot document stays the same size however long the loan is delinquent. A loan
  // closed on its own (the single-loan write path, whose side writes are fixed) keeps it inline.
  let bucketMove: BucketMoveDoc | null = null;
  const history = plan.set.bucket_history as Record<string, unknown>[] | undefined;
  if (!withBatchEvent && history) {
    const seq = (d.bucket_seq ?? 0) + 1;
    bucketMove = { _id: `${loanId}:b${seq}`, loan_id: loanId, seq, record: history[history.length - 1] };
    delete plan.set.bucket_history;
    plan.set.bucket_seq = seq;
  }
  if (withBatchEvent) {
    const version = d.version + 1;
    const id = `close:${date}:${loanId}:v${version}`;
    plan.events.push({ subject: LoanEvents.closeBatch, id, payload: { event_id: id, business_date: date, partition: d.partition, chunk: 0, occurred_at: ctx.now, loans: [{ loan_id: loanId, version, attributes: (plan.response as any).attributes, state: (plan.response as any).position }] } });
  }
  return { plan, outcome, bucketMove };
}
