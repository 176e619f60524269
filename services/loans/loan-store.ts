/**
 * The one place that writes a loan (DESIGN.md §1, STYLE.md): every money mutation is
 *
 *   1. read the loan (an `_id` lookup) and finish any mutation a crash left half done;
 *   2. answer from the idempotency record when the key was seen (409 when its body differs);
 *   3. compute the new state (pure, in operations.ts) and write it in ONE version-guarded update
 *      of the loan document, together with the mutation's side writes as `pending`;
 *   4. perform the side writes — ledger entries, modifications, outbox events, then the
 *      idempotency record — each keyed by an id fixed in step 3, so doing them twice writes them
 *      once; the request is answered here;
 *   5. clear `pending` (after the answer: the mutation is committed and its side writes done, so
 *      the clear is bookkeeping; the loan's next mutation in this process waits for it, a read
 *      that finds it pending waits for it, and another process that finds it finishes it again,
 *      which writes nothing new).
 *
 * A crash after 3 leaves `pending` on the loan: the next request on the loan, a retry with the
 * same key, or the start-up sweep finishes it. Mutations of one loan are queued in process and
 * guarded by the version across processes (a lost race re-reads and recomputes).
 */
import { randomBytes } from "node:crypto";
import { Types, type Model } from "mongoose";
import { ConflictError, NotFoundError } from "../../shared/errors";
import { failpoint } from "../../shared/runtime/failpoints";
import type { Installment, LoanState } from "../../shared/finance";
import { isDuplicateKey } from "../../shared/db/crud";
import { GroupCall, GroupCommit, GroupRead } from "./group-commit";
import { decodeLoan, encodeLoanFields } from "./stored-loan";

export interface LedgerDoc {
  _id: string;
  loan_id: string;
  seq: number;
  type: string;
  trade_date: string;
  amount: string;
  components: Record<string, string>;
  status: "booked" | "reversed";
  cash_class: string | null;
  reverses: string | null;
  reversed_by: string | null;
  rebooked_from: string | null;
  idempotency_key: string | null;
  allocation: unknown;
  fee_type: string | null;
  booked_at: string;
  actor: string | null;
}

export interface SideWrites {
  transactions?: LedgerDoc[];
  transactionUpdates?: { _id: string; set: Record<string, unknown> }[];
  modifications?: { _id: string; seq: number; record: unknown }[];
  promotions?: { _id: string; seq: number; record: unknown }[];
  statements?: { _id: string; seq: number; record: unknown }[];
  events: { subject: string; id: string; payload: unknown }[];
}

export interface PendingMutation extends SideWrites {
  id: string;
  /** The loan version this mutation wrote (older pending records: read from `id`). */
  version?: number;
  kind: string;
  response: unknown;
  idempotency?: { key: string; hash: string } | null;
}

/**
 * `pending` as the loan document holds it: the id and version (the unique index and the clears
 * match on them), the kind, and the rest as ONE JSON string. A pending mutation (its answer,
 * events and ledger entries: ~5 KB) is written and cleared on every mutation and never queried
 * inside; as a string it is one object on the embedded wire server instead of a tree of maps to
 * allocate, copy on every update of the loan and collect, and a copy instead of a walk in BSON.
 */
export interface StoredPending {
  id: string;
  version: number;
  kind: string;
  body: string;
}

export function storedPending(p: PendingMutation): StoredPending {
  const { id, version, kind, response: _response, ...rest } = p;
  const others = JSON.stringify(rest);
  // The answer's JSON is spliced in, not serialised again: the idempotency record reuses it.
  const answer = responseJson(p);
  const body = answer === undefined ? others : others === "{}" ? `{"response":${answer}}` : `{"response":${answer},${others.slice(1)}`;
  return { id, version: version ?? pendingVersion(p), kind, body };
}

const responseJsonCache = new WeakMap<PendingMutation, string | undefined>();

/** JSON of a pending mutation's answer, serialised once per mutation (pending body, idempotency record). */
function responseJson(p: PendingMutation): string | undefined {
  if (!responseJsonCache.has(p)) responseJsonCache.set(p, JSON.stringify(p.response));
  return responseJsonCache.get(p);
}

/** The pending mutation of a stored loan (either shape: records written before bodies were strings are objects). */
export function pendingOf(stored: StoredPending | PendingMutation): PendingMutation {
  if (typeof (stored as StoredPending).body !== "string") return stored as PendingMutation;
  const { body, ...head } = stored as StoredPending;
  return { ...head, ...JSON.parse(body) };
}

/**
 * The answer an idempotency record holds: as a JSON string for the reason above (records written
 * before are objects). JSON is what the first answer went out as, so a replay equals it.
 */
export function rememberedResponse(record: { response?: unknown; response_json?: string }): unknown {
  return typeof record.response_json === "string" ? JSON.parse(record.response_json) : record.response;
}

/** What an operation returns: the loan fields to set, a new schedule if any, side writes, answer. */
export interface MutationPlan extends SideWrites {
  kind: string;
  set: Record<string, unknown>;
  /** The full installment list of a new schedule; the loan's `schedule_ref` then points at it. */
  schedule?: { installments: Installment[]; opening_state?: unknown } | null;
  response: unknown;
}

/**
 * The loan document and the key's idempotency record as read before a mutation, for its first
 * attempt: a stale loan costs a lost race (the write is version-guarded), never a wrong answer,
 * because the record is read after the loan (see readLoanAndRecord).
 */
export interface Prefetched {
  doc: any;
  record: any;
}

/** The loan as operations see it: the stored document plus its state with installments. */
export interface LoadedLoan {
  doc: any;
  state: LoanState | null;
  /**
   * The schedule `doc.schedule_ref` points at, as read for this mutation: the write compares the
   * new state's installments with it without reading it again. Held by the mutation only, never
   * across requests: a book's payments go round thousands of loans, so a cache of schedules by id
   * never hit, and its entries only lived long enough to be promoted to the old generation.
   */
  schedule?: { id: string; rows: Installment[] } | null;
}

export interface StoreModels {
  loans: Model<any>;
  loan_schedules: Model<any>;
  loan_transactions: Model<any>;
  loan_idempotency: Model<any>;
  loan_modifications: Model<any>;
  loan_promotions: Model<any>;
  loan_statements: Model<any>;
}

type Publish = (subject: string, id: string, payload: unknown) => Promise<void>;
/** Many events in one outbox write, in order (each loan's events stay in its order). */
export type PublishMany = (events: { subject: string; id: string; payload: unknown }[]) => Promise<void>;

export interface ScheduleDoc {
  _id: string;
  loan_id: string;
  installments: Installment[];
  opening_state: unknown;
}

export class LoanStore {
  private readonly queues = new Map<string, Promise<unknown>>();
  /** Mutations of this process whose side writes or clear are in flight, by pending id. */
  private readonly finishing = new Map<string, Promise<void>>();
  /**
   * The single-loan path's side writes, group-committed across the mutations in flight (one
   * round trip per batch, not per mutation); each mutation still waits for its own, in order.
   */
  private readonly groups: {
    transactions: GroupCommit<LedgerDoc>;
    idempotency: GroupCommit<Record<string, unknown>>;
    events: GroupCommit<PendingMutation["events"][number]> | null;
    clears: GroupCommit<{ loanId: string; version: number; id: string }>;
  };
  /** The version-guarded loan writes of the mutations in flight, in one bulk write (each learns whether it won). */
  private readonly loanWrites: GroupCall<{ loanId: string; version: number; set: Record<string, unknown> }, boolean>;
  /** The hot path's `_id` reads (loan, idempotency record, schedule), grouped the same way. */
  private readonly reads: { loans: GroupRead<string, any>; idempotency: GroupRead<string, any>; schedules: GroupRead<string, any> };

  constructor(
    private readonly models: StoreModels,
    private readonly publish: Publish,
    /**
     * A lost race costs the loser more than the winner (it first finishes the winner's side
     * writes), so against another instance with a queue of its own it can lose many times in a
     * row: it keeps trying, with a short random pause, for at least `minAttempts` and `budgetMs`.
     */
    private readonly retry = { minAttempts: 20, budgetMs: 10_000, maxPauseMs: 25 },
    /** Many events in one outbox write (in order); without it each event is published alone. */
    publishMany?: PublishMany,
  ) {
    this.groups = {
      transactions: new GroupCommit((docs) => insertNative(models.loan_transactions, docs.map(withLedgerDefaults))),
      idempotency: new GroupCommit((docs) => insertNative(models.loan_idempotency, docs)),
      events: publishMany ? new GroupCommit((events) => publishMany(events)) : null,
      clears: new GroupCommit((items) => this.clearPending(items)),
    };
    this.loanWrites = new GroupCall((items) => this.writeLoans(items));
    const byIds = (model: Model<any>, toKey: (id: string) => unknown = (id) => id) => (ids: string[]) => model.collection.find({ _id: { $in: ids.map(toKey) } } as any).toArray();
    this.reads = {
      loans: new GroupRead(async (ids: string[]) => (await byIds(models.loans, (id) => new Types.ObjectId(id))(ids)).map(decodeLoan)),
      idempotency: new GroupRead(byIds(models.loan_idempotency)),
      schedules: new GroupRead(byIds(models.loan_schedules)),
    };
  }

  /** The loan and the key's idempotency record (see Prefetched). */
  async prefetch(loanId: string, key?: string | null): Promise<Prefetched> {
    const [doc, record] = await this.readLoanAndRecord(loanId, key ?? null);
    return { doc, record };
  }

  /**
   * The loan, THEN the key's idempotency record. Read together, the record could be read before
   * another instance booked the same key and the loan after it had finished (record written,
   * pending cleared): no record, no pending, and the payment would book a second time — a CI run
   * of 100 same-key payments on two instances did. Read after the loan, the record is there
   * whenever the loan shows the mutation done, and a loan read before it fails its guarded write.
   */
  private async readLoanAndRecord(loanId: string, key: string | null): Promise<[any, any]> {
    const doc = await this.findLoan(loanId);
    return [doc, doc && key ? await this.findIdempotency(loanId, key) : null];
  }

  /** The loan document by `_id` through the native driver (the hot path's read: no query building). */
  private async findLoan(loanId: string): Promise<any> {
    if (!/^[0-9a-f]{24}$/i.test(loanId)) return null;
    return this.reads.loans.get(loanId);
  }

  private findIdempotency(loanId: string, key: string): Promise<any> {
    return this.reads.idempotency.get(`${loanId}:${key}`);
  }

  /** The loan document (404 when absent), its half-done mutation finished first. */
  async read(loanId: string): Promise<any> {
    const doc = decodeLoan(await this.models.loans.findById(loanId).lean());
    if (!doc) throw new NotFoundError("loan", loanId);
    if (doc.pending) {
      await this.finish(loanId, pendingOf(doc.pending));
      doc.pending = null;
    }
    return doc;
  }

  async load(loanId: string): Promise<LoadedLoan> {
    return this.loadedOf(await this.read(loanId));
  }

  /**
   * A stored loan as a mutation needs it: its state and the schedule that state bills from (taken
   * from `schedules` when given: a close chunk reads its loans' schedules in one query).
   */
  async loadedOf(doc: any, schedules?: ReadonlyMap<string, Installment[]>): Promise<LoadedLoan> {
    if (!doc.state) return { doc, state: null, schedule: null };
    const id: string | undefined = doc.schedule_ref?.id;
    const rows = id ? (schedules?.get(id) ?? (await this.installments(id))) : [];
    const remaining = doc.schedule_ref?.remaining ?? 0;
    return { doc, state: { ...doc.state, installments: rows.slice(rows.length - remaining) }, schedule: id ? { id, rows } : null };
  }

  /** The engine state of a stored loan, with the installments still to bill. */
  async stateOf(doc: any): Promise<LoanState | null> {
    return (await this.loadedOf(doc)).state;
  }

  async openingState(doc: any): Promise<LoanState> {
    const id = doc.opening_ref.id;
    const sched = await this.models.loan_schedules.findById(id).lean();
    if (!sched) throw new Error(`opening schedule ${id} of loan ${doc._id} is missing`);
    return { ...(sched as any).opening_state, installments: (sched as any).installments };
  }

  /** The schedules of `docs`, by id, in one query (a close-of-business chunk). */
  async schedulesOf(docs: any[]): Promise<Map<string, Installment[]>> {
    const ids = [...new Set(docs.map((d) => d.schedule_ref?.id).filter(Boolean))];
    const found = ids.length ? await this.models.loan_schedules.find({ _id: { $in: ids } }).lean() : [];
    return new Map(found.map((sched: any) => [String(sched._id), sched.installments as Installment[]]));
  }

  async installments(scheduleId: string): Promise<Installment[]> {
    const sched: any = await this.reads.schedules.get(scheduleId);
    if (!sched) throw new Error(`schedule ${scheduleId} is missing`);
    return sched.installments;
  }

  /**
   * Runs `plan` against the current loan and commits it (steps 1–5 above). `plan` is called again
   * when another writer got there first, so it must be a function of the loan it is given.
   */
  mutate<T>(
    loanId: string,
    plan: (loan: LoadedLoan) => MutationPlan | Promise<MutationPlan>,
    idempotency?: { key: string; hash: string } | null,
    prefetched?: Prefetched | null,
  ): Promise<{ response: T; replayed: boolean }> {
    const previous = this.queues.get(loanId);
    // A prefetch taken while another mutation of the loan was queued here is stale for sure.
    const first = previous ? null : (prefetched ?? null);
    const run = (previous ?? Promise.resolve()).catch(() => undefined).then(() => this.attempt<T>(loanId, plan, idempotency ?? null, first));
    // The next mutation of the loan waits for this one's clear as well, not only its answer.
    const tail = run.then((r) => r.settled).catch(() => undefined);
    this.queues.set(loanId, tail);
    void tail.then(() => {
      if (this.queues.get(loanId) === tail) this.queues.delete(loanId);
    });
    return run.then(({ response, replayed }) => ({ response, replayed }));
  }

  private async attempt<T>(
    loanId: string,
    plan: (loan: LoadedLoan) => MutationPlan | Promise<MutationPlan>,
    idem: { key: string; hash: string } | null,
    prefetched: Prefetched | null,
  ): Promise<{ response: T; replayed: boolean; settled: Promise<void> }> {
    const deadline = Date.now() + this.retry.budgetMs;
    for (let attempt = 1; attempt <= this.retry.minAttempts || Date.now() < deadline; attempt++) {
      if (attempt > 1) await lostRacePause(attempt, this.retry.maxPauseMs);
      // The loan, then the key's record (or as prefetched, first time); the record is read again
      // only when a half-done mutation was just finished (finishing it may have written that record).
      const [doc, seen] = attempt === 1 && prefetched ? [prefetched.doc, prefetched.record] : await this.readLoanAndRecord(loanId, idem?.key ?? null);
      if (!doc) throw new NotFoundError("loan", loanId);
      let record: any = seen;
      if (doc.pending) {
        await this.finish(loanId, pendingOf(doc.pending));
        doc.pending = null;
        if (idem) record = await this.findIdempotency(loanId, idem.key);
      }
      if (idem && record) {
        if (record.hash !== idem.hash) throw new ConflictError(`idempotency key '${idem.key}' was used with a different request`, { idempotency_key: idem.key });
        return { response: rememberedResponse(record) as T, replayed: true, settled: Promise.resolve() };
      }
      const loaded = await this.loadedOf(doc);
      const p = await plan(loaded);
      const { version, set, pending } = await this.prepare(loanId, loaded, p, idem);
      const won = await this.loanWrites.call({ loanId, version, set: { ...set, pending: storedPending(pending), version: version + 1 } });
      if (!won) continue; // another process wrote first: recompute on its result
      failpoint("loans.after-loan-write");
      const { sides, settled } = this.startFinish(loanId, pending);
      await sides; // answered once the side writes are done; the clear settles the queue (see the header)
      return { response: p.response as T, replayed: false, settled };
    }
    throw new ConflictError(`loan ${loanId} is changing too fast; retry`, { loan_id: loanId });
  }

  /**
   * Step 3 without the write: the loan fields to `$set` (schedule documents written first) and the
   * pending mutation. The close of business prepares a whole chunk this way and writes it in one
   * bulk write, each update still guarded by its loan's version.
   */
  async prepare(loanId: string, loaded: LoadedLoan, p: MutationPlan, idem: { key: string; hash: string } | null = null, scheduleSink?: ScheduleDoc[]) {
    const version = loaded.doc.version as number;
    const set: Record<string, unknown> = { ...p.set };
    let scheduleBase = loaded.doc.schedule_ref;
    let current = loaded.schedule ?? null;
    if (p.schedule) {
      // A new opening schedule (disbursement, or a promotion that re-plans the loan from the start).
      const n = (loaded.doc.schedule_ref?.n ?? 0) + 1;
      const id = scheduleId(loanId, n);
      await this.writeSchedule({ _id: id, loan_id: loanId, installments: p.schedule.installments, opening_state: p.schedule.opening_state ?? null }, scheduleSink);
      scheduleBase = { id, n, remaining: p.schedule.installments.length };
      current = { id, rows: p.schedule.installments };
      set.schedule_ref = scheduleBase;
      if (p.schedule.opening_state) set.opening_ref = { id };
    }
    if (set.state) {
      const state = set.state as LoanState;
      set.schedule_ref = await this.refFor(loanId, scheduleBase, state, current, scheduleSink);
      const { installments: _rows, ...rest } = state;
      set.state = rest;
    }
    const pending: PendingMutation = {
      id: `${loanId}:v${version + 1}`,
      version: version + 1,
      kind: p.kind,
      response: p.response,
      idempotency: idem,
      transactions: p.transactions,
      transactionUpdates: p.transactionUpdates,
      modifications: p.modifications,
      promotions: p.promotions,
      statements: p.statements,
      events: p.events,
    };
    return { version, set, pending };
  }

  /**
   * The schedule reference for a state whose installments are a suffix of the loan's current
   * schedule (billing only moves forward through it). Anything else is a new schedule.
   */
  private async refFor(loanId: string, ref: { id: string; n: number } | null, state: LoanState, known: { id: string; rows: Installment[] } | null, scheduleSink?: ScheduleDoc[]): Promise<unknown> {
    const rows = state.installments ?? [];
    if (ref) {
      const current = known?.id === ref.id ? known.rows : await this.installments(ref.id);
      const offset = current.length - rows.length;
      if (offset >= 0 && rows.every((r, i) => sameInstallment(r, current[offset + i]))) return { id: ref.id, n: ref.n, remaining: rows.length };
    }
    const n = (ref?.n ?? 0) + 1;
    const id = scheduleId(loanId, n);
    await this.writeSchedule({ _id: id, loan_id: loanId, installments: rows, opening_state: null }, scheduleSink);
    return { id, n, remaining: rows.length };
  }

  /**
   * A new schedule document, written now — or, with a sink (a close-of-business chunk), collected
   * for one insert of the chunk's schedules before the chunk's loan write.
   */
  private async writeSchedule(doc: ScheduleDoc, sink?: ScheduleDoc[]): Promise<void> {
    if (sink) {
      sink.push(doc);
      return;
    }
    await this.models.loan_schedules.replaceOne({ _id: doc._id }, doc, { upsert: true });
  }

  /** Writes what prepare() collected in a sink: ids are new and random, so a plain insert. */
  async insertSchedules(docs: ScheduleDoc[]): Promise<void> {
    if (!docs.length) return;
    await insertAll(this.models.loan_schedules, docs);
  }

  /**
   * Step 4–5: the side writes of a committed mutation, then its clear. Safe to run any number of
   * times; one this process is already finishing is awaited, not written again.
   */
  async finish(loanId: string, pending: PendingMutation): Promise<void> {
    return this.finishing.get(pending.id) ?? this.startFinish(loanId, pending).settled;
  }

  /** Side writes, then the clear, registered under the pending id until settled (finish() joins it). */
  private startFinish(loanId: string, pending: PendingMutation): { sides: Promise<void>; settled: Promise<void> } {
    const sides = this.sideWrites(loanId, pending);
    const settled = sides.then(() => this.clear(loanId, pending));
    this.finishing.set(pending.id, settled);
    const forget = () => {
      if (this.finishing.get(pending.id) === settled) this.finishing.delete(pending.id);
    };
    settled.then(forget, forget);
    return { sides, settled };
  }

  /**
   * Step 4. Ledger entries, modifications, promotions, statements and (when no existing entry is
   * reallocated) the events go together: the loan write already committed the mutation, so none
   * of them waits for another. Entries a replay reallocates are updated before the events that
   * say so; the idempotency record comes last, so a repeated request answered from it finds all
   * of the mutation written.
   */
  private async sideWrites(loanId: string, pending: PendingMutation): Promise<void> {
    const m = this.models;
    const updates = pending.transactionUpdates ?? [];
    const reallocates = updates.length > 0;
    const publishEvents = () => (this.groups.events ? this.groups.events.add(pending.events) : this.publishInOrder(pending.events));
    await Promise.all([
      this.groups.transactions.add(pending.transactions),
      insertAll(m.loan_modifications, pending.modifications?.map((d) => ({ ...d, loan_id: loanId }))),
      insertAll(m.loan_promotions, pending.promotions?.map((d) => ({ ...d, loan_id: loanId }))),
      insertAll(m.loan_statements, pending.statements?.map((d) => ({ ...d, loan_id: loanId }))),
      reallocates ? Promise.resolve() : publishEvents(),
    ]);
    if (reallocates) {
      // Anyone may finish a mutation (its request, a read, another instance, the sweep), so this
      // can run after a newer mutation has already reallocated the same entries: an entry keeps
      // the version of the mutation that last wrote it, and an older one never writes over it.
      const version = pendingVersion(pending);
      const olderThanThis = { $or: [{ loan_version: { $exists: false } }, { loan_version: null }, { loan_version: { $lt: version } }] };
      await m.loan_transactions.bulkWrite(
        updates.map((u) => ({ updateOne: { filter: { _id: u._id, ...olderThanThis }, update: { $set: { ...u.set, loan_version: version } } } })) as any,
      );
      await publishEvents();
    }
    // Last: a repeated request answered from this record finds the whole mutation written.
    if (pending.idempotency) {
      const record = { _id: `${loanId}:${pending.idempotency.key}`, loan_id: loanId, hash: pending.idempotency.hash, response_json: responseJson(pending), created_at: new Date().toISOString() };
      await this.groups.idempotency.add([record]);
    }
  }

  private async publishInOrder(events: PendingMutation["events"]): Promise<void> {
    for (const e of events) await this.publish(e.subject, e.id, e.payload);
  }

  /** Step 5: `pending` cleared, if the loan still holds this mutation. */
  private async clear(loanId: string, pending: PendingMutation): Promise<void> {
    if (pending.version) await this.groups.clears.add([{ loanId, version: pending.version, id: pending.id }]);
    else await this.clearIfStillOurs(loanId, pending.id);
  }

  /**
   * The loan writes of several mutations in one bulk write, each guarded by its loan's version.
   * A bulk write reports how many matched, not which: each is therefore an upsert on
   * `{ _id, version }`, so one whose version moved fails alone with a duplicate key on `_id`
   * (reported with its index) instead of matching nothing. The loan exists (it was just read, and
   * loans are never deleted), so the upsert never inserts. Native, with the timestamp mongoose
   * would add and undefined values left out as mongoose left them: the fields are set as the
   * operations built them.
   */
  private async writeLoans(items: { loanId: string; version: number; set: Record<string, unknown> }[]): Promise<boolean[]> {
    const updated_at = new Date();
    const ops = items.map((i) => ({ updateOne: { filter: { _id: new Types.ObjectId(i.loanId), version: i.version }, update: { $set: { ...encodeLoanFields(i.set), updated_at } }, upsert: true } }));
    try {
      await this.models.loans.collection.bulkWrite(ops as any, { ordered: false, ignoreUndefined: true });
      return items.map(() => true);
    } catch (err: any) {
      const writeErrors: any[] = Array.isArray(err?.writeErrors) ? err.writeErrors : err?.writeErrors ? [err.writeErrors] : [];
      if (!writeErrors.length || !writeErrors.every((e) => isDuplicateKey(e) && typeof e.index === "number")) throw err;
      const lost = new Set(writeErrors.map((e) => e.index as number));
      return items.map((_, i) => !lost.has(i));
    }
  }

  /**
   * Clears `pending` on each loan still at the version that wrote it (nobody else finished or
   * replaced it), in one bulk write keyed `{ _id, version }` (a lookup on the loans' unique index
   * of the pair). When fewer matched, the rest are checked one by one.
   */
  private async clearPending(items: { loanId: string; version: number; id: string }[]): Promise<void> {
    const ops = items.map((i) => ({ updateOne: { filter: { _id: new Types.ObjectId(i.loanId), version: i.version }, update: { $set: { pending: null } } } }));
    const res = await this.models.loans.collection.bulkWrite(ops as any, { ordered: false });
    if (res.matchedCount < items.length) for (const i of items) await this.clearIfStillOurs(i.loanId, i.id);
  }

  /** The version moved without replacing the mutation (an ownership change): clear it if still ours. */
  private async clearIfStillOurs(loanId: string, pendingId: string): Promise<void> {
    const doc: any = await this.models.loans.findById(loanId, { version: 1, pending: 1 }).lean();
    if (doc?.pending?.id === pendingId) await this.models.loans.updateOne({ _id: loanId, version: doc.version }, { $set: { pending: null } });
  }

  /**
   * finish() for the committed mutations of a close-of-business chunk: each kind of side write in
   * one insert for the whole chunk, the events in one outbox write (`publishMany`; else each
   * loan's in order, loans side by side), `pending` cleared in one bulk write. Per-loan round trips made the side writes most of a close's time.
   */
  async finishMany(given: { loanId: string; pending: PendingMutation | StoredPending }[], publishMany?: PublishMany): Promise<void> {
    const items = given.map((i) => ({ loanId: i.loanId, pending: pendingOf(i.pending) }));
    const simple = items.filter((i) => !i.pending.transactionUpdates?.length && !i.pending.idempotency);
    for (const i of items) if (!simple.includes(i)) await this.finish(i.loanId, i.pending);
    if (!simple.length) return;
    const m = this.models;
    const withLoan = (key: "modifications" | "promotions" | "statements") => simple.flatMap((i) => (i.pending[key] ?? []).map((d) => ({ ...d, loan_id: i.loanId })));
    await Promise.all([
      insertAll(m.loan_transactions, simple.flatMap((i) => i.pending.transactions ?? [])),
      insertAll(m.loan_modifications, withLoan("modifications")),
      insertAll(m.loan_promotions, withLoan("promotions")),
      insertAll(m.loan_statements, withLoan("statements")),
    ]);
    if (publishMany) await publishMany(simple.flatMap((i) => i.pending.events));
    else {
      await Promise.all(simple.map(async (i) => {
        for (const e of i.pending.events) await this.publish(e.subject, e.id, e.payload);
      }));
    }
    await this.clearPending(simple.map((i) => ({ loanId: i.loanId, version: pendingVersion(i.pending), id: i.pending.id })));
  }

  /** Finishes every mutation a crash left behind (start-up and a periodic sweep). */
  async sweep(): Promise<number> {
    const stuck = await this.models.loans.find({ pending: { $ne: null } }, { _id: 1, pending: 1 }).lean();
    for (const doc of stuck) await this.finish(String(doc._id), pendingOf((doc as any).pending));
    return stuck.length;
  }
}

/** A random pause growing with the losses, so two instances' writers stop colliding in step. */
function lostRacePause(attempt: number, maxMs: number): Promise<void> {
  const ms = Math.random() * Math.min(maxMs, 2 * attempt);
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function pendingVersion(p: PendingMutation): number {
  return p.version ?? Number(p.id.slice(p.id.lastIndexOf(":v") + 2));
}

function sameInstallment(a: Installment, b: Installment | undefined): boolean {
  return !!b && a.number === b.number && a.due_date === b.due_date && a.payment === b.payment && (a.interest ?? null) === (b.interest ?? null) && !!a.interest_only === !!b.interest_only;
}

async function insertAll(model: Model<any>, docs: unknown[] | undefined): Promise<void> {
  if (!docs?.length) return;
  try {
    await model.insertMany(docs, { ordered: false });
  } catch (err: any) {
    // A retry finds some or all of its documents written already: that is the point.
    const writeErrors: any[] = err?.writeErrors ?? (isDuplicateKey(err) ? [err] : null);
    if (!writeErrors || !writeErrors.every((e) => isDuplicateKey(e?.err ?? e))) throw err;
  }
}

/**
 * insertAll through the native driver (the documents are complete as built: no casting). Undefined
 * values are left out at any depth, as mongoose left them out: an answer replayed from its
 * idempotency record must equal the JSON answered first (a view's `loan_id: undefined` is absent
 * there, not null).
 */
async function insertNative(model: Model<any>, docs: readonly Record<string, unknown>[]): Promise<void> {
  if (!docs.length) return;
  try {
    await model.collection.insertMany(docs as any[], { ordered: false, ignoreUndefined: true });
  } catch (err: any) {
    const writeErrors: any[] = Array.isArray(err?.writeErrors) ? err.writeErrors : err?.writeErrors ? [err.writeErrors] : isDuplicateKey(err) ? [err] : [];
    if (!writeErrors.length || !writeErrors.every((e) => isDuplicateKey(e?.err ?? e))) throw err;
  }
}

/** The ledger fields whose schema default is null. */
const LEDGER_NULL_DEFAULTS = ["cash_class", "reverses", "reversed_by", "rebooked_from", "idempotency_key", "allocation", "fee_type", "actor", "reallocated_at", "loan_version"] as const;

/** A ledger entry as the schema's defaults would complete it. */
function withLedgerDefaults(doc: LedgerDoc): Record<string, unknown> {
  const out: Record<string, unknown> = { ...doc };
  for (const k of LEDGER_NULL_DEFAULTS) out[k] ??= null;
  return out;
}

/**
 * Schedule documents are written before the loan write that points at them, so two writers racing
 * on one version must not share an id: the loser's document stays an unreferenced orphan.
 */
function scheduleId(loanId: string, n: number): string {
  return `${loanId}:${n}:${randomBytes(4).toString("hex")}`;
}
