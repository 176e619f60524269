/**
 * What a caller sees of a portfolio (DESIGN.md §6, §9): staff see everything; an investor sees
 * the portfolios it bought in full and every other one only as `{ id, public_name }`.
 */
import type { Principal } from "../../shared/auth/roles";

const INTERNAL = ["dates_rev", "members_rev"] as const;

/** The wire shape of a portfolio document, without the internal guards. */
export function portfolioView(doc: any, opts: { saleLines?: boolean } = {}): Record<string, any> {
  const out: Record<string, any> = typeof doc?.toJSON === "function" ? doc.toJSON() : { ...doc };
  for (const k of INTERNAL) delete out[k];
  if (out.sale) {
    const { lines, ...sale } = out.sale;
    out.sale = { ...sale, loan_count: lines?.length ?? 0, ...(opts.saleLines ? { lines } : {}) };
  }
  return out;
}

/** An investor owns a portfolio it bought. */
export function ownsPortfolio(user: Principal | undefined, portfolio: { sale?: { investor_id?: string } | null }): boolean {
  return !!user && user.role === "investor" && !!user.investor_id && portfolio.sale?.investor_id === user.investor_id;
}

export function isInvestor(user: Principal | undefined): boolean {
  return user?.role === "investor";
}

/** The portfolio as this caller may see it. */
export function portfolioFor(user: Principal | undefined, view: Record<string, any>): Record<string, any> {
  if (!isInvestor(user) || ownsPortfolio(user, view)) return view;
  return { id: view.id, public_name: view.public_name };
}

/** A member loan as listed under its portfolio, with the membership that makes it one. */
export function memberLoanView(doc: any, membership: { added_on: string; removed_on: string | null; source: string; portfolio_id: string }, investorId: string | null) {
  return {
    loan_id: doc._id,
    version: doc.version ?? null,
    portfolio_id: membership.portfolio_id,
    investor_id: investorId,
    member_since: membership.added_on,
    member_until: membership.removed_on,
    source: membership.source,
    attributes: doc.attributes ?? null,
    state: doc.state ?? null,
    first_transaction_date: doc.first_transaction_date ?? null,
    first_cash_flow_date: doc.first_cash_flow_date ?? null,
  };
}
