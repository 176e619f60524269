/**
 * Events and answers of the loans service (DESIGN.md §7): the contract the portfolios, snapshots,
 * investors and tapes services code against. Every loan event is durable (JetStream, outbox) and
 * carries the loan's filterable attributes and its position after the change, with the loan's
 * `version`, so a consumer keeps a projection without calling back and ignores anything older
 * than the version it holds.
 *
 * Money and rates are decimal strings, business dates ISO dates (DESIGN.md §2).
 */
import type { ProgramType } from "../finance/types";

export const LoanEvents = {
  created: "loan.created",
  disbursed: "loan.disbursed",
  /** A transaction was booked (payment, fee, draw, …): payload LoanTransactionEvent. */
  transactionBooked: "loan.transaction.booked",
  /** A transaction was reversed (DELETE, or a returned payment): payload LoanTransactionEvent. */
  transactionReversed: "loan.transaction.reversed",
  /** A transaction moved to another trade date: payload LoanTransactionEvent with old/new dates. */
  transactionRebooked: "loan.transaction.rebooked",
  statusChanged: "loan.status.changed",
  rateChanged: "loan.rate.changed",
  /**
   * The loan changed in a way no event above names (a statement, a promotion assigned): payload
   * LoanUpdatedEvent. Every mutation through the loans write path publishes at least one event,
   * so a projection that follows the events reaches the version the loans service holds. (Not
   * yet: an ownership change from a portfolio or investor event moves the version silently.)
   */
  updated: "loan.updated",
  /** One chunk of a close of business: payload LoanCloseBatchEvent (DESIGN.md §8). */
  closeBatch: "loan.close.batch",
} as const;
/** Subscribe to every loan event with `loan.>`. */
export const LOAN_EVENTS_FILTER = "loan.>";

export type LoanStatus = "pending" | "active" | "delinquent" | "charged_off" | "paid_off" | "closed" | "cancelled";
export const LOAN_STATUSES: readonly LoanStatus[] = ["pending", "active", "delinquent", "charged_off", "paid_off", "closed", "cancelled"];
export type DelinquencyBucket = "current" | "1_29" | "30_59" | "60_89" | "90_119" | "120_plus";

export type TransactionType =
  | "disbursement"
  | "draw"
  | "payment"
  | "fee"
  | "fee_waiver"
  | "charge_off"
  | "recovery"
  | "buyout"
  | "asset_return"
  | "credit_refund";
export const TRANSACTION_TYPES: readonly TransactionType[] = [
  "disbursement", "draw", "payment", "fee", "fee_waiver", "charge_off", "recovery", "buyout", "asset_return", "credit_refund",
];

/**
 * Seed 004's transaction classes: cash moving out to the borrower (disbursement, draw, credit
 * refund) or in from them (payment, recovery, buyout); everything else moves no cash.
 */
export type CashClass = "cash_outflow" | "cash_inflow" | null;
export function cashClassOf(type: TransactionType): CashClass {
  if (type === "disbursement" || type === "draw" || type === "credit_refund") return "cash_outflow";
  if (type === "payment" || type === "recovery" || type === "buyout") return "cash_inflow";
  return null;
}

/** What other services filter and group loans by (portfolio criteria, metrics, tapes). */
export interface LoanAttributes {
  loan_id: string;
  external_id: string | null;
  product_id: string;
  program_id: string;
  program_type: ProgramType;
  interest_rate_type: "fixed" | "variable" | "hybrid";
  /** The disbursement date ("" until disbursed). */
  origination_date: string;
  /** Origination month, YYYY-MM ("" until disbursed). */
  vintage: string;
  /** Original principal (installment), capitalised cost (lease) or credit limit (line of credit). */
  principal: string;
  /** Current annual rate. */
  annual_rate: string;
  term_months: number;
  maturity_date: string | null;
  index_name: string | null;
  margin: string | null;
  region: string | null;
  credit_score: number | null;
  currency: string;
  /**
   * The product's grace period (days past due before a loan is delinquent, DESIGN.md §3–4), so a
   * consumer can tell "days past due ≥ 1 after grace" itself. Optional: older events lack it.
   */
  grace_period_days?: number;
}

/** A loan's position after a change: balances, delinquency, status. */
export interface LoanPosition {
  status: LoanStatus;
  principal_balance: string;
  /** Interest accrued and unpaid (billed and unbilled) as of `as_of`. */
  interest_receivable: string;
  fees_due: string;
  deferred_interest: string;
  credit_balance: string;
  /** Principal + interest + fees billed and unpaid. */
  past_due_amount: string;
  days_past_due: number;
  bucket: DelinquencyBucket;
  next_due_date: string | null;
  next_payment_amount: string | null;
  total_disbursed: string;
  total_collected: string;
  /** The business date the figures are as of (the last transaction or close). */
  as_of: string;
  /** Close of business has run through this date. */
  closed_through: string | null;
  /** Portfolio and investor ownership as the loans service last heard it (DESIGN.md §9). */
  portfolio_id: string | null;
  investor_id: string | null;
}

/** Every loan event has these. */
export interface LoanEventBase {
  event_id: string;
  loan_id: string;
  /** The loan's version after the change: a consumer ignores a version ≤ the one it holds. */
  version: number;
  occurred_at: string;
  attributes: LoanAttributes;
  state: LoanPosition;
  actor: string | null;
}

export interface TransactionComponents {
  principal: string;
  interest: string;
  fees: string;
  deferred_interest: string;
  credit: string;
}

/** A ledger transaction as it travels (DESIGN.md §7). */
export interface LoanTransaction {
  id: string;
  loan_id: string;
  type: TransactionType;
  trade_date: string;
  amount: string;
  components: TransactionComponents;
  /**
   * The part of `components.principal` paid ahead of schedule — principal beyond what was billed
   * and due (DESIGN.md §3): a curtailment, a payoff or a lease buyout; the engine's
   * `allocation.prepaid_principal`. "0.00" for every other transaction. Added for loan tapes
   * (ESMA CMRL50 cumulative prepayments); optional: events published before it lack it.
   */
  prepaid_principal?: string;
  status: "booked" | "reversed";
  cash_class: CashClass;
  reverses: string | null;
  rebooked_from: string | null;
  idempotency_key: string | null;
  booked_at: string;
  actor: string | null;
}

export type LoanCreatedEvent = LoanEventBase;
export type LoanDisbursedEvent = LoanEventBase & { disbursement: LoanTransaction };

/**
 * loan.transaction.booked / .reversed / .rebooked. For a rebook, `old_trade_date` and
 * `new_trade_date` differ; for a reversal `transaction` is the reversed original (status
 * `reversed`) and `reversal` the transaction that reversed it.
 */
export interface LoanTransactionEvent extends LoanEventBase {
  transaction: LoanTransaction;
  reversal?: LoanTransaction;
  old_trade_date: string | null;
  new_trade_date: string | null;
  /** Earliest trade date whose allocations a replay changed, when the operation replayed. */
  replayed_from: string | null;
  /**
   * The other booked transactions whose allocation the replay changed, with their new split (the
   * loans service re-books them in place and publishes no event of their own). Optional: only a
   * replay that moved an allocation sets it; events published before it lack it.
   */
  reallocated?: ReallocatedTransaction[];
}

/** A transaction re-allocated by a replay: its new components and prepaid principal. */
export interface ReallocatedTransaction {
  id: string;
  trade_date: string;
  components: TransactionComponents;
  prepaid_principal: string;
}

export interface LoanStatusChangedEvent extends LoanEventBase {
  from: LoanStatus;
  to: LoanStatus;
  business_date: string;
  reason: string;
}

export interface LoanUpdatedEvent extends LoanEventBase {
  /** What changed the loan, e.g. `statement`, `promotion`. */
  change: string;
}

export interface LoanRateChangedEvent extends LoanEventBase {
  modification: {
    id: string;
    effective_date: string;
    old_rate: string;
    new_rate: string;
    index_name: string | null;
    index_value: string | null;
    reason: string;
    actor: string | null;
  };
}

/** One chunk of a close of business for `business_date`: each loan's state after its close. */
export interface LoanCloseBatchEvent {
  event_id: string;
  business_date: string;
  partition: number;
  chunk: number;
  occurred_at: string;
  loans: Array<{ loan_id: string; version: number; attributes: LoanAttributes; state: LoanPosition }>;
}
