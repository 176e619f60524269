/**
 * Events of the portfolios and investors services (DESIGN.md §9): the contract the loans,
 * snapshots and tapes services code against. Membership, sale and assignment events move
 * ownership, so they are durable (JetStream, outbox); handlers are idempotent by `event_id`.
 */
export const PortfolioEvents = {
  /** A loan joined a portfolio through the API (static add). */
  loanAdded: "portfolio.loan.added",
  /**
   * Loans joined portfolios in the daily auto-assign: PortfolioMembershipBatchEvent, up to a few
   * thousand `portfolio.loan.added` payloads in one event (a run assigns tens of thousands of
   * loans; one durable event each would cost the outbox, the stream and every consumer a write
   * per loan). A consumer handles each entry as it handles `portfolio.loan.added`, deduping by
   * the entry's own `event_id` (a recovered run may regroup entries into other batches).
   */
  loansAdded: "portfolio.loans.added",
  /** A loan left a portfolio. */
  loanRemoved: "portfolio.loan.removed",
  /** A portfolio was sold to an investor (final). */
  sold: "portfolio.sold",
  /** A portfolio was created, edited or closed (status, name, program): PortfolioChangedEvent. */
  changed: "portfolio.changed",
} as const;

export const InvestorEvents = {
  assignmentCreated: "investor.assignment.created",
} as const;

export type PortfolioStatus = "open" | "closed" | "sold";

export interface PortfolioMembershipEvent {
  event_id: string;
  portfolio_id: string;
  loan_id: string;
  /** Business date the membership starts (added) or ends (removed). */
  effective_date: string;
  /** "static" (through the API), "auto_assign" (daily criteria run). */
  source: "static" | "auto_assign";
  occurred_at: string;
  actor: string | null;
}

export interface PortfolioMembershipBatchEvent {
  event_id: string;
  business_date: string;
  source: "auto_assign";
  /** Each exactly the payload `portfolio.loan.added` would carry for that loan. */
  memberships: PortfolioMembershipEvent[];
  occurred_at: string;
}

export interface PortfolioSoldEvent {
  event_id: string;
  portfolio_id: string;
  investor_id: string;
  sale_date: string;
  price: string;
  /** One per member loan; purchase prices sum exactly to `price`. */
  assignments: Array<{ assignment_id: string; loan_id: string; purchase_price: string; principal_balance: string }>;
  occurred_at: string;
  actor: string | null;
}

export interface PortfolioChangedEvent {
  event_id: string;
  portfolio_id: string;
  version: number;
  name: string;
  program_id: string | null;
  status: PortfolioStatus;
  occurred_at: string;
}

export interface InvestorAssignmentEvent {
  event_id: string;
  assignment_id: string;
  investor_id: string;
  loan_id: string;
  portfolio_id: string | null;
  assignment_date: string;
  purchase_price: string;
  occurred_at: string;
}
