/**
 * The loans service's money operations (DESIGN.md §7), each a function of the loan as loaded and
 * the request that returns a MutationPlan for the LoanStore to commit. No I/O here: what an
 * operation needs from elsewhere (the ledger for a replay, an index rate) is passed in. The money
 * rules themselves are the engine's (shared/finance); these functions decide which rule applies,
 * refuse what the loan's status does not allow, and book the ledger.
 */
import Decimal from "decimal.js";
import { LoanEvents, type LoanStatus, type ReallocatedTransaction, type TransactionType } from "../../shared/contracts/loans";
import type { EffectiveProductConfig } from "../../shared/contracts/programs";
import { BusinessRuleError, ConflictError, NotFoundError } from "../../shared/errors";
import {
  applyPayment, assessFee, buyOutLease, calculatePayoff, drawOnLine, feeAmount, generateSchedule, generateStatement, leaseBuyoutQuote, openLoan,
  refundCredit, returnLeaseAsset, type LoanState, type Promotion,
} from "../../shared/finance";
import { loanTermsAt, type CreateLoanRequest } from "../../shared/loans/origination";
import { allocationComponents, replayChanges, replayFromLedger, type ReplayInput } from "../../shared/loans/ledger-replay";
import { canDo, type LoanOperation } from "../../shared/loans/status";
import { firstResetDate, firstStatementDate } from "../../shared/loans/close-of-business";
import { change, nextSeqs, type AfterView, type OpContext } from "./change";
import type { LedgerDoc, LoadedLoan, MutationPlan } from "./loan-store";
import { componentsOf, ledgerDoc, transactionView } from "./loan-views";

export type { OpContext } from "./change";

/** Everything a replay needs that is not on the loan document. */
export interface LoanHistory {
  opening: LoanState;
  ledger: LedgerDoc[];
  statements: { statement_date: string; due_date?: string | null }[];
  rateResets: ReplayInput["rateResets"];
}

function assertCan(op: LoanOperation, loaded: LoadedLoan): void {
  const status = loaded.doc.status as LoanStatus;
  if (!canDo(op, status)) throw new ConflictError(`a ${status} loan does not allow ${op.replace(/_/g, " ")}`, { status, operation: op });
}

function assertProgram(loaded: LoadedLoan, type: string, op: string): void {
  if (loaded.doc.program_type !== type) throw new BusinessRuleError(`${op} applies to a ${type.replace(/_/g, " ")} only`, "program_type", { program_type: loaded.doc.program_type });
}

/** DESIGN.md §7: no money date after today's business date, none before the loan existed. */
export function assertTradeDate(loaded: LoadedLoan, date: string, ctx: OpContext, field = "date"): void {
  if (date > ctx.today) throw new BusinessRuleError(`'${field}' ${date} is after today's business date ${ctx.today}`, "future_date", { field, today: ctx.today });
  const from = loaded.doc.disbursement_date;
  if (from && date < from) throw new BusinessRuleError(`'${field}' ${date} is before the disbursement on ${from}`, "before_disbursement", { field, disbursement_date: from });
}

const order = (loaded: LoadedLoan) => (loaded.doc.config as EffectiveProductConfig).payment_allocation_order;

/** POST /loans/:id/disburse — opens the loan and generates its schedule. */
export function disburse(loaded: LoadedLoan, input: { date: string; annual_rate: string; index_value: string | null }, ctx: OpContext): MutationPlan {
  assertCan("disburse", loaded);
  if (input.date > ctx.today) throw new BusinessRuleError(`'date' ${input.date} is after today's business date ${ctx.today}`, "future_date", { field: "date" });
  const doc = loaded.doc;
  const promotions = (doc.promotions ?? []).map((p: any) => p.terms as Promotion);
  const terms = loanTermsAt({ program_type: doc.program_type, cfg: doc.config, req: doc.request as CreateLoanRequest, annual_rate: input.annual_rate, disbursement_date: input.date, promotions });
  const rows = generateSchedule(terms);
  const opening = openLoan(terms, { payment_allocation_order: order(loaded) });
  const { installments, ...openingState } = opening;
  const amount = new Decimal(terms.principal).toFixed(2);
  const [seq] = nextSeqs(loaded, 1);
  const tx = doc.program_type === "line_of_credit" ? null : ledgerDoc(String(doc._id), seq, { type: "disbursement", trade_date: input.date, amount, components: { principal: amount }, booked_at: ctx.now, actor: ctx.actor });
  return change(loaded, ctx, {
    kind: "disburse",
    state: opening,
    status: "active",
    statusReason: "disbursed",
    schedule: { installments, opening_state: openingState },
    set: {
      terms,
      annual_rate: input.annual_rate,
      index_value: input.index_value,
      disbursement_date: input.date,
      origination_date: input.date,
      maturity_date: rows.length ? rows[rows.length - 1].due_date : null,
      ledger_seq: tx ? seq : doc.ledger_seq,
      next_reset_date: firstResetDate(doc.config, input.date),
      next_statement_date: firstStatementDate(doc.config, input.date),
      late_fees: [],
      closed_through: null,
    },
    disbursed: tx ? amount : 0,
    transactions: tx ? [tx] : [],
    events: [{ subject: LoanEvents.disbursed, extra: { disbursement: tx ? transactionView(tx) : null } }],
    response: (after) => ({ ...after.loan, schedule: rows }),
  });
}

/** POST /loans/:id/cancel — a pending loan that will not be disbursed. */
export function cancel(loaded: LoadedLoan, ctx: OpContext): MutationPlan {
  assertCan("cancel", loaded);
  return change(loaded, ctx, { kind: "cancel", status: "cancelled", statusReason: "cancelled", events: [], response: (a) => a.loan });
}

/**
 * POST /loans/:id/payments. On the engine's state when dated on or after the loan's last
 * activity; otherwise booked at its date and the ledger replayed from there. After a charge-off
 * the money is a recovery.
 */
export function pay(loaded: LoadedLoan, input: { amount: string; date: string; idempotency_key: string | null }, ctx: OpContext, history?: LoanHistory): MutationPlan {
  assertCan("payment", loaded);
  assertTradeDate(loaded, input.date, ctx);
  const loanId = String(loaded.doc._id);
  const [seq] = nextSeqs(loaded, 1);
  if (loaded.doc.status === "charged_off") {
    const tx = ledgerDoc(loanId, seq, { type: "recovery", trade_date: input.date, amount: input.amount, components: { principal: input.amount }, idempotency_key: input.idempotency_key, booked_at: ctx.now, actor: ctx.actor });
    return bookOne(loaded, ctx, "recovery", tx, { collected: input.amount });
  }
  const state = loaded.state!;
  if (input.date >= state.accrued_through) {
    const r = applyPayment(state, { amount: input.amount, date: input.date }, order(loaded));
    const tx = ledgerDoc(loanId, seq, { type: "payment", trade_date: input.date, amount: r.allocation.amount, components: componentsOf(r.allocation), allocation: r.allocation, idempotency_key: input.idempotency_key, booked_at: ctx.now, actor: ctx.actor });
    return bookOne(loaded, ctx, "payment", tx, { state: r.state, collected: input.amount });
  }
  // Backdated: book at its date, replay everything after it (servicing-pitfalls 1).
  const tx = ledgerDoc(loanId, seq, { type: "payment", trade_date: input.date, amount: new Decimal(input.amount).toFixed(2), idempotency_key: input.idempotency_key, booked_at: ctx.now, actor: ctx.actor });
  return replayed(loaded, ctx, history!, {
    kind: "payment",
    add: [tx],
    replayedFrom: input.date,
    collected: input.amount,
    events: (ledger) => [{ subject: LoanEvents.transactionBooked, extra: txEventExtra(ledger.get(tx._id)!, null, null, input.date) }],
    response: (ledger, changes, after) => ({ transaction: transactionView(ledger.get(tx._id)!), allocation: ledger.get(tx._id)!.allocation, replay: { from: input.date, changed: changes }, loan: after.summary }),
  });
}

/** POST /loans/:id/fees — a fee of the product's fee schedule (or a stated amount). */
export function fee(loaded: LoadedLoan, input: { fee_type: string; amount?: string; date: string; idempotency_key: string | null }, ctx: OpContext): MutationPlan {
  assertCan("fee", loaded);
  assertTradeDate(loaded, input.date, ctx);
  const amount = input.amount ?? scheduledFee(loaded, input.fee_type, input.date);
  const r = assessFee(loaded.state!, { amount, date: input.date, fee_type: input.fee_type });
  const [seq] = nextSeqs(loaded, 1);
  const tx = ledgerDoc(String(loaded.doc._id), seq, { type: "fee", trade_date: input.date, amount: r.amount, components: { fees: r.amount }, fee_type: input.fee_type, idempotency_key: input.idempotency_key, booked_at: ctx.now, actor: ctx.actor });
  return bookOne(loaded, ctx, "fee", tx, { state: r.state });
}

/** The amount of `feeType` by the product's fee schedule, on the loan's figures of `date`. */
export function scheduledFee(loaded: LoadedLoan, feeType: string, date: string): string {
  const rule = (loaded.doc.config as EffectiveProductConfig).fees.find((f) => f.fee_type === feeType);
  if (!rule) throw new BusinessRuleError(`the product's fee schedule has no '${feeType}' fee: give 'amount'`, "no_fee_rule", { fee_type: feeType });
  const state = loaded.state!;
  const next = state.installments[0];
  const pastDue = state.due.reduce((s, d) => s.plus(d.interest).plus(d.fees).plus(d.principal), new Decimal(0));
  void date;
  return feeAmount(rule, {
    principal: loaded.doc.terms?.principal ?? state.principal_balance,
    balance: state.principal_balance,
    payment: next?.payment ?? pastDue.toFixed(2),
    past_due: pastDue.toFixed(2),
  }).toFixed(2);
}

/** POST /loans/:id/draws — a line of credit draw within the available credit. */
export function draw(loaded: LoadedLoan, input: { amount: string; date: string; idempotency_key: string | null }, ctx: OpContext): MutationPlan {
  assertProgram(loaded, "line_of_credit", "a draw");
  assertCan("draw", loaded);
  assertTradeDate(loaded, input.date, ctx);
  const r = drawOnLine(loaded.state!, { amount: input.amount, date: input.date });
  const [seq] = nextSeqs(loaded, 1);
  const amount = new Decimal(input.amount).toFixed(2);
  const tx = ledgerDoc(String(loaded.doc._id), seq, { type: "draw", trade_date: input.date, amount, components: { principal: amount }, idempotency_key: input.idempotency_key, booked_at: ctx.now, actor: ctx.actor });
  return bookOne(loaded, ctx, "draw", tx, { state: r.state, disbursed: amount, extraResponse: { available_credit: r.available_credit } });
}

/** POST /loans/:id/statements — a line of credit's cycle statement (the daily close calls it too). */
export function statement(loaded: LoadedLoan, input: { statement_date: string; due_date?: string | null }, ctx: OpContext): MutationPlan {
  assertProgram(loaded, "line_of_credit", "a statement");
  assertCan("statement", loaded);
  assertTradeDate(loaded, input.statement_date, ctx, "statement_date");
  const r = generateStatement(loaded.state!, { statement_date: input.statement_date, due_date: input.due_date ?? null });
  const seq = (loaded.doc.statement_seq ?? 0) + 1;
  const record = { ...r.statement, statement_date: input.statement_date, number: seq };
  return change(loaded, ctx, {
    kind: "statement",
    state: r.state,
    set: { statement_seq: seq },
    statements: [{ _id: `${loaded.doc._id}:s${seq}`, seq, record }],
    events: [],
    response: (after) => ({ statement: record, loan: after.loan }),
  });
}

/** POST /loans/:id/buyout — the lessee buys the asset at the buyout quote. */
export function buyout(loaded: LoadedLoan, input: { date: string; amount?: string; idempotency_key: string | null }, ctx: OpContext): MutationPlan {
  assertProgram(loaded, "lease", "a buyout");
  assertCan("buyout", loaded);
  assertTradeDate(loaded, input.date, ctx);
  const amount = input.amount ?? leaseBuyoutQuote(loaded.state!, input.date).total;
  const r = buyOutLease(loaded.state!, { amount, date: input.date });
  const [seq] = nextSeqs(loaded, 1);
  const tx = ledgerDoc(String(loaded.doc._id), seq, { type: "buyout", trade_date: input.date, amount: r.allocation.amount, components: componentsOf(r.allocation), allocation: r.allocation, idempotency_key: input.idempotency_key, booked_at: ctx.now, actor: ctx.actor });
  return bookOne(loaded, ctx, "buyout", tx, { state: r.state, collected: r.allocation.amount, extraResponse: { quote: r.quote } });
}

/** POST /loans/:id/return — the asset comes back; unpaid rent and the return fee stay owed. */
export function assetReturn(loaded: LoadedLoan, input: { date: string; return_fee?: string; idempotency_key: string | null }, ctx: OpContext): MutationPlan {
  assertProgram(loaded, "lease", "an asset return");
  assertCan("asset_return", loaded);
  assertTradeDate(loaded, input.date, ctx);
  const returnFee = input.return_fee ?? ((loaded.doc.config as EffectiveProductConfig).program_config.return_fee as string | undefined) ?? null;
  const r = returnLeaseAsset(loaded.state!, { date: input.date, return_fee: returnFee });
  const [seq] = nextSeqs(loaded, 1);
  const tx = ledgerDoc(String(loaded.doc._id), seq, { type: "asset_return", trade_date: input.date, amount: r.written_off_balance, components: { principal: r.written_off_balance, fees: returnFee ?? "0.00" }, idempotency_key: input.idempotency_key, booked_at: ctx.now, actor: ctx.actor });
  return bookOne(loaded, ctx, "asset_return", tx, { state: r.state, extraResponse: { outstanding: r.outstanding, written_off_balance: r.written_off_balance } });
}

/** POST /loans/:id/credit-refund — pays a credit balance back (all of it unless an amount is given). */
export function creditRefund(loaded: LoadedLoan, input: { date: string; amount?: string; idempotency_key: string | null }, ctx: OpContext): MutationPlan {
  assertCan("credit_refund", loaded);
  assertTradeDate(loaded, input.date, ctx);
  const r = refundCredit(loaded.state!, { amount: input.amount ?? null, date: input.date });
  const [seq] = nextSeqs(loaded, 1);
  const tx = ledgerDoc(String(loaded.doc._id), seq, { type: "credit_refund", trade_date: input.date, amount: r.amount, components: { credit: new Decimal(r.amount).negated().toFixed(2) }, idempotency_key: input.idempotency_key, booked_at: ctx.now, actor: ctx.actor });
  return bookOne(loaded, ctx, "credit_refund", tx, { state: r.state, collected: new Decimal(r.amount).negated() });
}

/** POST /loans/:id/close — a line of credit with nothing owed is closed on request. */
export function closeLine(loaded: LoadedLoan, input: { date: string }, ctx: OpContext): MutationPlan {
  assertProgram(loaded, "line_of_credit", "closing on request");
  assertCan("close", loaded);
  const quote = calculatePayoff(loaded.state!, input.date < loaded.state!.accrued_through ? loaded.state!.accrued_through : input.date);
  if (new Decimal(quote.total).gt(0)) throw new BusinessRuleError(`the line still owes ${quote.total}`, "balance_owed", { payoff: quote });
  return change(loaded, ctx, { kind: "close", status: "closed", statusReason: "closed on request", events: [], response: (a) => a.loan });
}

/** DELETE /loans/:id/transactions/:tx — reverses a transaction and replays the ledger. */
export function reverse(loaded: LoadedLoan, txId: string, ctx: OpContext, history: LoanHistory, opts: { nsfFee?: boolean; date?: string } = {}): MutationPlan {
  const op: LoanOperation = opts.nsfFee ? "return_payment" : "reverse";
  assertCan(op, loaded);
  const original = findBooked(history, txId);
  const reversible: TransactionType[] = opts.nsfFee ? ["payment", "recovery"] : ["payment", "fee", "draw", "credit_refund", "recovery"];
  if (!reversible.includes(original.type as TransactionType)) {
    throw new ConflictError(`a ${original.type} cannot be ${opts.nsfFee ? "returned" : "reversed"}`, { transaction_id: txId, type: original.type });
  }
  const date = opts.date ?? ctx.today;
  assertTradeDate(loaded, date, ctx);
  const loanId = String(loaded.doc._id);
  const seqs = nextSeqs(loaded, opts.nsfFee ? 2 : 1);
  const reversal = ledgerDoc(loanId, seqs[0], {
    type: original.type as TransactionType,
    trade_date: original.trade_date,
    amount: original.amount,
    components: negate(original.components),
    reverses: original._id,
    booked_at: ctx.now,
    actor: ctx.actor,
  });
  reversal.status = "booked";
  const added = [reversal];
  if (opts.nsfFee && original.type === "payment") {
    const rule = (loaded.doc.config as EffectiveProductConfig).fees.find((f) => f.fee_type === "nsf" || f.fee_type === "return");
    if (rule) {
      const amount = feeAmount(rule, { payment: original.amount, principal: loaded.doc.terms?.principal ?? "0", balance: loaded.state?.principal_balance ?? "0", past_due: "0" }).toFixed(2);
      added.push(ledgerDoc(loanId, seqs[1], { type: "fee", trade_date: date, amount, components: { fees: amount }, fee_type: rule.fee_type, booked_at: ctx.now, actor: ctx.actor }));
    }
  }
  const cash = original.cash_class === "cash_inflow" ? new Decimal(original.amount).negated() : new Decimal(0);
  const outflow = original.type === "draw" ? new Decimal(original.amount).negated() : new Decimal(0);
  const refund = original.type === "credit_refund" ? new Decimal(original.amount) : new Decimal(0);
  return replayed(loaded, ctx, history, {
    kind: opts.nsfFee ? "return_payment" : "reverse",
    add: added,
    mark: [{ _id: original._id, set: { status: "reversed", reversed_by: reversal._id } }],
    replayedFrom: original.trade_date,
    collected: cash.plus(refund),
    disbursed: outflow,
    charged_off_reopen: original.type === "recovery",
    events: (ledger) => [
      { subject: LoanEvents.transactionReversed, extra: { ...txEventExtra(ledger.get(original._id)!, original.trade_date, null, original.trade_date), reversal: transactionView(ledger.get(reversal._id)!) } },
      ...added.slice(1).map((t) => ({ subject: LoanEvents.transactionBooked, extra: txEventExtra(ledger.get(t._id)!, null, null, null) })),
    ],
    response: (ledger, changes, after) => ({
      reversed: transactionView(ledger.get(original._id)!),
      reversal: transactionView(ledger.get(reversal._id)!),
      fee: added[1] ? transactionView(ledger.get(added[1]._id)!) : null,
      replay: { from: original.trade_date, changed: changes },
      loan: after.summary,
    }),
  });
}

/** POST /loans/:id/transactions/:tx/rebook — moves a transaction to another trade date. */
export function rebook(loaded: LoadedLoan, txId: string, input: { trade_date: string }, ctx: OpContext, history: LoanHistory): MutationPlan {
  assertCan("rebook", loaded);
  const original = findBooked(history, txId);
  if (!["payment", "fee", "draw", "credit_refund"].includes(original.type)) throw new ConflictError(`a ${original.type} cannot be rebooked`, { transaction_id: txId, type: original.type });
  assertTradeDate(loaded, input.trade_date, ctx, "trade_date");
  if (input.trade_date === original.trade_date) throw new BusinessRuleError(`the transaction is already dated ${input.trade_date}`, "same_trade_date", { transaction_id: txId });
  const [seq] = nextSeqs(loaded, 1);
  const moved = ledgerDoc(String(loaded.doc._id), seq, {
    type: original.type as TransactionType,
    trade_date: input.trade_date,
    amount: original.amount,
    components: original.components,
    rebooked_from: original._id,
    fee_type: original.fee_type,
    idempotency_key: null,
    booked_at: ctx.now,
    actor: ctx.actor,
  });
  const from = input.trade_date < original.trade_date ? input.trade_date : original.trade_date;
  return replayed(loaded, ctx, history, {
    kind: "rebook",
    add: [moved],
    mark: [{ _id: original._id, set: { status: "reversed", reversed_by: moved._id } }],
    replayedFrom: from,
    events: (ledger) => [{ subject: LoanEvents.transactionRebooked, extra: txEventExtra(ledger.get(moved._id)!, original.trade_date, input.trade_date, from) }],
    response: (ledger, changes, after) => ({
      transaction: transactionView(ledger.get(moved._id)!),
      rebooked_from: transactionView(ledger.get(original._id)!),
      old_trade_date: original.trade_date,
      new_trade_date: input.trade_date,
      replay: { from, changed: changes },
      loan: after.summary,
    }),
  });
}

/** POST /loans/:id/promotions — a PromoRate: the loan is re-planned from disbursement with it. */
export function assignPromotion(loaded: LoadedLoan, promo: { promotion_id: string; terms: Promotion; name: string }, ctx: OpContext, history: LoanHistory | null): MutationPlan {
  assertCan("promotion", loaded);
  const doc = loaded.doc;
  if ((doc.promotions ?? []).some((p: any) => p.promotion_id === promo.promotion_id)) throw new ConflictError(`promotion ${promo.promotion_id} is already assigned to this loan`, { promotion_id: promo.promotion_id });
  const seq = (doc.promotions?.length ?? 0) + 1;
  const record = { id: `${doc._id}:p${seq}`, promotion_id: promo.promotion_id, name: promo.name, terms: promo.terms, assigned_on: ctx.today, actor: ctx.actor };
  const promotions = [...(doc.promotions ?? []), record];
  const side = { promotions: [{ _id: record.id, seq, record }] };
  if (!history) {
    return change(loaded, ctx, { kind: "promotion", set: { promotions }, ...side, events: [], response: (a) => ({ promotion: record, loan: a.loan }) });
  }
  const terms = { ...doc.terms, promotions: promotions.map((p: any) => p.terms) };
  const opening = openLoan(terms, { payment_allocation_order: order(loaded) });
  const { installments, ...openingState } = opening;
  return replayed(loaded, ctx, { ...history, opening }, {
    kind: "promotion",
    add: [],
    replayedFrom: doc.disbursement_date,
    set: { promotions, terms },
    schedule: { installments, opening_state: openingState },
    extraSide: side,
    events: () => [],
    response: (_l, changes, after) => ({ promotion: record, schedule: generateSchedule(terms), replay: { from: doc.disbursement_date, changed: changes }, loan: after.loan }),
  });
}

// ── shared by the operations above ────────────────────────────────────────────────────────

function negate(c: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(c).map(([k, v]) => [k, new Decimal(v).isZero() ? "0.00" : new Decimal(v).negated().toFixed(2)]));
}

function findBooked(history: LoanHistory, txId: string): LedgerDoc {
  const t = history.ledger.find((d) => d._id === txId);
  if (!t) throw new NotFoundError("transaction", txId);
  if (t.status !== "booked" || t.reverses) throw new ConflictError(`transaction ${txId} is ${t.reverses ? "a reversal" : t.status} and cannot change`, { transaction_id: txId, status: t.status });
  return t;
}

function txEventExtra(tx: LedgerDoc, oldDate: string | null, newDate: string | null, replayedFrom: string | null) {
  return { transaction: transactionView(tx), old_trade_date: oldDate, new_trade_date: newDate, replayed_from: replayedFrom };
}

/**
 * The payments a replay re-allocated travel on the operation's transaction events (they get no
 * event of their own), so a consumer that keeps cash flows (snapshots: prepaid principal for
 * tapes) follows their new split.
 */
function withReallocations(events: { subject: string; extra?: Record<string, unknown> }[], changes: ReturnType<typeof replayChanges>) {
  if (!changes.length) return events;
  const reallocated: ReallocatedTransaction[] = changes.map((c) => ({
    id: c.transaction_id,
    trade_date: c.trade_date,
    components: c.after as unknown as ReallocatedTransaction["components"],
    prepaid_principal: c.allocation.prepaid_principal,
  }));
  return events.map((e) => (e.extra?.transaction ? { ...e, extra: { ...e.extra, reallocated } } : e));
}

/** A single new ledger entry on the engine's state (no replay). */
function bookOne(
  loaded: LoadedLoan,
  ctx: OpContext,
  kind: string,
  tx: LedgerDoc,
  o: { state?: LoanState; collected?: Decimal.Value; disbursed?: Decimal.Value; extraResponse?: Record<string, unknown> },
): MutationPlan {
  return change(loaded, ctx, {
    kind,
    state: o.state,
    set: { ledger_seq: tx.seq },
    collected: o.collected,
    disbursed: o.disbursed,
    transactions: [tx],
    events: [{ subject: LoanEvents.transactionBooked, extra: txEventExtra(tx, null, null, null) }],
    response: (after) => ({ transaction: transactionView(tx), allocation: tx.allocation, ...o.extraResponse, loan: after.summary }),
  });
}

/**
 * A change that replays the ledger: the new entries are added, `mark` applied (reversed
 * originals), the loan rebuilt from its opening state, and every payment whose allocation moved
 * is re-booked with its new components (the answer lists each, before and after).
 */
function replayed(
  loaded: LoadedLoan,
  ctx: OpContext,
  history: LoanHistory,
  o: {
    kind: string;
    add: LedgerDoc[];
    mark?: { _id: string; set: Partial<LedgerDoc> }[];
    replayedFrom: string;
    collected?: Decimal.Value;
    disbursed?: Decimal.Value;
    set?: Record<string, unknown>;
    schedule?: MutationPlan["schedule"];
    extraSide?: { promotions?: { _id: string; seq: number; record: unknown }[] };
    charged_off_reopen?: boolean;
    events: (ledger: Map<string, LedgerDoc>) => { subject: string; extra?: Record<string, unknown> }[];
    response: (ledger: Map<string, LedgerDoc>, changes: unknown[], after: AfterView) => unknown;
  },
): MutationPlan {
  const ledger = new Map<string, LedgerDoc>(history.ledger.map((d) => [d._id, { ...d }]));
  for (const m of o.mark ?? []) Object.assign(ledger.get(m._id)!, m.set);
  for (const d of o.add) ledger.set(d._id, d);
  const entries = [...ledger.values()].sort((a, b) => a.seq - b.seq);
  const { state, allocations } = replayFromLedger({
    opening: history.opening,
    ledger: entries,
    statements: history.statements,
    rateResets: history.rateResets,
    allocationOrder: order(loaded),
  });
  const added = new Set(o.add.map((d) => d._id));
  const changes = replayChanges(entries, allocations, added);
  for (const d of o.add) {
    const a = allocations.get(d._id);
    if (a) Object.assign(d, { components: allocationComponents(a), allocation: a, amount: a.amount });
  }
  const updates = [
    ...(o.mark ?? []).map((m) => ({ _id: m._id, set: m.set as Record<string, unknown> })),
    ...changes.map((c) => {
      const prev = ledger.get(c.transaction_id)!;
      Object.assign(prev, { components: c.after, allocation: c.allocation });
      return { _id: c.transaction_id, set: { components: c.after, allocation: c.allocation, reallocated_at: ctx.now } };
    }),
  ];
  const lastSeq = o.add.length ? Math.max(...o.add.map((d) => d.seq)) : loaded.doc.ledger_seq;
  const status = o.charged_off_reopen ? undefined : loaded.doc.status === "charged_off" ? "charged_off" : undefined;
  return change(loaded, ctx, {
    kind: o.kind,
    state,
    status: status as LoanStatus | undefined,
    set: { ...o.set, ledger_seq: lastSeq },
    schedule: o.schedule,
    collected: o.collected,
    disbursed: o.disbursed,
    transactions: o.add,
    transactionUpdates: updates,
    promotions: o.extraSide?.promotions,
    events: withReallocations(o.events(ledger), changes),
    response: (after) => o.response(ledger, changes.map(({ allocation: _a, ...c }) => c), after),
  });
}
