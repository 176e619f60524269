/**
 * A book of loans for close-of-business tests and the bench: a handful of template loans booked
 * through the loans service's own actions (so every document is what the service writes), then
 * cloned with new ids and partitions straight into MongoDB — loan, schedules, and (optionally)
 * ledger, modifications and statements. Plus a normalised snapshot of every loan, to compare two
 * closes of the same book.
 */
import { ObjectId, type Db } from "mongodb";
import { PARTITIONS } from "../../shared/loans/origination";
import { decodeLoan } from "../../services/loans/stored-loan";

type Call = (action: string, params: Record<string, unknown>) => Promise<any>;

/** The business date the book is closed on: every template has something happen by then. */
export const BOOK_CLOSE_DATE = "2026-06-15";
export const BOOK_INDEX = "COBIDX";

let seq = 0;
async function product(call: Call, o: { type?: string; variable?: boolean; fees?: boolean }) {
  const n = `${Date.now().toString(36)}-${++seq}`;
  const program = await call("programs.createProgram", {
    name: `COB ${o.type ?? "installment"} ${n}`,
    program_type: o.type ?? "installment",
    day_count_convention: "actual_365",
    accrual_method: "simple",
    payment_allocation_order: ["interest", "fees", "principal"],
    ...(o.variable ? { index_name: BOOK_INDEX, margin: "0.0200", floor: "0.0450", ceiling: "0.0700", adjustment_frequency: "monthly" } : {}),
  });
  const prod = await call("programs.createProduct", {
    name: `COB product ${n}`,
    program_id: program.id,
    interest_rate_type: o.variable ? "variable" : "fixed",
    default_interest_rate: o.variable ? "0.0500" : "0.1200",
    min_term_months: 1,
    max_term_months: 360,
    min_loan_amount: "100.00",
    max_loan_amount: "1000000.00",
    grace_period_days: 10,
  });
  if (o.fees !== false) await call("programs.createFeeSchedule", { name: `COB fees ${n}`, product_id: prod.id, fees: [{ fee_type: "late", calculation: "flat", amount: "25.00" }] });
  return prod.id as string;
}

async function loan(call: Call, productId: string, body: Record<string, unknown>, disburseOn: string) {
  const created = await call("loans.createLoan", { product_id: productId, term_months: 12, ...body });
  return call("loans.disburse", { id: created.id, date: disburseOn });
}

let payKey = 0;
const pay = (call: Call, id: string, amount: string, date: string) => call("loans.pay", { id, amount, date, idempotency_key: `book-${Date.now()}-${++payKey}` });

/**
 * Books the templates (programs, rates, loans services on `call`); returns their ids. On
 * BOOK_CLOSE_DATE they are: current; late (three missed installments); past the charge-off
 * threshold; variable and paid up (a reset to the ceiling on the date); variable and never paid
 * (resets to the floor and the ceiling, late fees); within grace; paid off (skipped by the close).
 */
export async function bookTemplates(call: Call): Promise<string[]> {
  for (const [d, r] of [["2025-12-01", "0.0300"], ["2026-05-01", "0.0100"], ["2026-06-01", "0.0600"]]) {
    await call("rates.createIndexRate", { index_name: BOOK_INDEX, rate: r, effective_date: d, source: "close-of-business book" });
  }
  const fixed = await product(call, {});
  const variable = await product(call, { variable: true });
  const ids: string[] = [];

  const current = await loan(call, fixed, { principal: "12000.00", annual_rate: "0.1200", first_payment_date: "2026-02-01" }, "2026-01-01");
  for (const row of current.schedule.slice(0, 5)) await pay(call, current.id, row.payment, row.due_date);
  ids.push(current.id);

  const late = await loan(call, fixed, { principal: "8000.00", annual_rate: "0.0900", first_payment_date: "2026-03-01" }, "2026-02-01");
  await pay(call, late.id, late.schedule[0].payment, "2026-03-01");
  ids.push(late.id);

  const chargeOff = await loan(call, fixed, { principal: "5000.00", annual_rate: "0.1500", first_payment_date: "2026-02-01" }, "2026-01-01");
  ids.push(chargeOff.id);

  const varPaid = await loan(call, variable, { principal: "20000.00", first_payment_date: "2026-04-15" }, "2026-03-15");
  for (const row of varPaid.schedule.slice(0, 2)) await pay(call, varPaid.id, row.payment, row.due_date);
  ids.push(varPaid.id);

  const varLate = await loan(call, variable, { principal: "15000.00", first_payment_date: "2026-03-15" }, "2026-02-15");
  ids.push(varLate.id);

  const inGrace = await loan(call, fixed, { principal: "3000.00", annual_rate: "0.1000", first_payment_date: "2026-06-10" }, "2026-05-10");
  ids.push(inGrace.id);

  const paidOff = await loan(call, fixed, { principal: "2000.00", annual_rate: "0.0800", first_payment_date: "2026-02-10" }, "2026-01-10");
  const quote = await call("loans.payoff", { id: paidOff.id, date: "2026-03-01" });
  await pay(call, paidOff.id, quote.total, "2026-03-01");
  ids.push(paidOff.id);
  return ids;
}

/**
 * Three more templates for an ordinary day (the bench's realistic mix), each with something
 * falling on BOOK_CLOSE_DATE once the book is closed through the day before: an installment due
 * that day on a loan paid up to it; a first installment 11 days past due (past the 10 days'
 * grace: delinquent and its late fee that day); a first installment 120 days past due (the
 * charge-off threshold reached that day).
 */
export async function bookDayTemplates(call: Call): Promise<{ dueToday: string; feeToday: string; chargeOffToday: string }> {
  const fixed = await product(call, {});
  const due = await loan(call, fixed, { principal: "9000.00", annual_rate: "0.1100", first_payment_date: "2026-01-15" }, "2025-12-15");
  for (const row of due.schedule.slice(0, 5)) await pay(call, due.id, row.payment, row.due_date);
  const fee = await loan(call, fixed, { principal: "4000.00", annual_rate: "0.1300", first_payment_date: "2026-06-04" }, "2026-05-04");
  const chargeOff = await loan(call, fixed, { principal: "6000.00", annual_rate: "0.1400", first_payment_date: "2026-02-15" }, "2026-01-15");
  return { dueToday: due.id, feeToday: fee.id, chargeOffToday: chargeOff.id };
}

/** Every string and ObjectId mentioning `from` rewritten to `to` (ids of ledger rows, schedules…). */
function rewrite(value: any, from: string, to: string): any {
  if (typeof value === "string") return value.includes(from) ? value.split(from).join(to) : value;
  if (value instanceof ObjectId) return value.toHexString() === from ? new ObjectId(to) : value;
  if (value instanceof Date || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => rewrite(v, from, to));
  const out: Record<string, any> = {};
  for (const [k, v] of Object.entries(value)) out[k] = rewrite(v, from, to);
  return out;
}

/**
 * Adds `count` clones of the templates (round robin) to the book, each with a new id and a
 * partition spread over all PARTITIONS; `mix` is a cycle of template indexes (default: each in
 * turn). `ledger: false` skips the ledger, modifications and
 * statements (the close never reads them: the bench builds faster without).
 */
export async function cloneTemplates(db: Db, templateIds: string[], count: number, opts: { ledger?: boolean; batch?: number; mix?: number[] } = {}): Promise<string[]> {
  const ledger = opts.ledger !== false;
  const batch = opts.batch ?? 500;
  const templates = await Promise.all(templateIds.map(async (id) => {
    const loanDoc = await db.collection("loans").findOne({ _id: new ObjectId(id) });
    const prefix = new RegExp(`^${id}`);
    const related: Record<string, any[]> = {
      loan_schedules: await db.collection("loan_schedules").find({ _id: prefix as any }).toArray(),
      // The close's bucket moves are the loan's own history (its `bucket_seq` counts them).
      loan_bucket_moves: await db.collection("loan_bucket_moves").find({ _id: prefix as any }).toArray(),
    };
    if (ledger) {
      for (const c of ["loan_transactions", "loan_modifications", "loan_statements"]) related[c] = await db.collection(c).find({ _id: prefix as any }).toArray();
    }
    return { id, loanDoc, related };
  }));
  const ids: string[] = [];
  let pending: { loans: any[]; [c: string]: any[] } = { loans: [] };
  const flush = async () => {
    for (const [c, docs] of Object.entries(pending)) if (docs.length) await db.collection(c).insertMany(docs, { ordered: false });
    pending = { loans: [] };
  };
  for (let i = 0; i < count; i++) {
    const t = templates[opts.mix ? opts.mix[i % opts.mix.length] : i % templates.length];
    const id = new ObjectId().toHexString();
    ids.push(id);
    pending.loans.push({ ...rewrite(t.loanDoc, t.id, id), partition: i % PARTITIONS, external_id: null });
    for (const [c, docs] of Object.entries(t.related)) (pending[c] ??= []).push(...docs.map((d) => rewrite(d, t.id, id)));
    if (pending.loans.length >= batch) await flush();
  }
  await flush();
  return ids;
}

/**
 * Copies every collection of `from` into `to` (the same book in two databases). The source's
 * services may still be writing (the outbox relay marks records published), and a scan racing an
 * update can return a document twice: a duplicate key is that document again, not an error.
 */
export async function copyDatabase(from: Db, to: Db): Promise<void> {
  for (const { name } of await from.listCollections().toArray()) {
    const docs = await from.collection(name).find({}).toArray();
    if (!docs.length) continue;
    try {
      await to.collection(name).insertMany(docs, { ordered: false });
    } catch (err: any) {
      const errors: any[] = err?.writeErrors ?? (err?.code === 11000 ? [err] : []);
      if (!errors.length || !errors.every((e) => (e?.err?.code ?? e?.code) === 11000)) throw err;
    }
  }
}

/** Wall-clock fields (booked_at, updated_at, status_history[].at …) differ between any two runs. */
function stripClock(value: any): any {
  if (Array.isArray(value)) return value.map(stripClock);
  if (value === null || typeof value !== "object" || value instanceof Date || value instanceof ObjectId) return value instanceof ObjectId ? value.toHexString() : value;
  const out: Record<string, any> = {};
  for (const [k, v] of Object.entries(value)) if (!/(^|_)at$/.test(k)) out[k] = stripClock(v);
  return out;
}

/**
 * Every loan as the business sees it: the document (without wall-clock times, close bookkeeping,
 * and with its schedule's rows in place of the schedule's random id), its ledger, modifications,
 * statements and the close's bucket moves.
 */
export async function snapshotBook(db: Db): Promise<Map<string, any>> {
  const out = new Map<string, any>();
  const byLoan = async (c: string) => {
    const m = new Map<string, any[]>();
    for (const d of await db.collection(c).find({}).sort({ _id: 1 }).toArray()) {
      const loanId = String(d.loan_id);
      if (!m.has(loanId)) m.set(loanId, []);
      m.get(loanId)!.push(stripClock(d));
    }
    return m;
  };
  const [ledger, mods, statements, bucketMoves] = [await byLoan("loan_transactions"), await byLoan("loan_modifications"), await byLoan("loan_statements"), await byLoan("loan_bucket_moves")];
  const schedules = new Map<string, any>();
  for (const s of await db.collection("loan_schedules").find({}).toArray()) schedules.set(String(s._id), s.installments);
  for (const doc of (await db.collection("loans").find({}).toArray()).map(decodeLoan)) {
    const id = doc._id.toHexString();
    const { close_chunk: _c, schedule_ref, opening_ref, pending, ...rest } = doc;
    out.set(id, {
      loan: stripClock(rest),
      pending: pending ?? null,
      schedule: schedule_ref ? { remaining: schedule_ref.remaining, installments: schedules.get(schedule_ref.id) } : null,
      opening: opening_ref ? schedules.get(opening_ref.id) : null,
      ledger: ledger.get(id) ?? [],
      modifications: mods.get(id) ?? [],
      statements: statements.get(id) ?? [],
      // Up to the loan's count: a move past it is an orphan of a lost write, read by nobody.
      bucket_moves: (bucketMoves.get(id) ?? []).filter((m) => m.seq <= (doc.bucket_seq ?? 0)),
    });
  }
  return out;
}

/** The `loan.close.batch` events of D in the loans outbox: per event its unit, chunk and loans. */
export async function closeBatches(db: Db, date: string): Promise<{ id: string; unit: number; chunk: number; loans: { loan_id: string; version: number; state: any }[] }[]> {
  const docs = await db.collection("loans_outbox").find({ subject: "loan.close.batch" }).toArray();
  return docs
    .filter((d: any) => d.payload?.business_date === date)
    .map((d: any) => ({ id: String(d._id), unit: d.payload.partition, chunk: d.payload.chunk, loans: d.payload.loans }));
}
