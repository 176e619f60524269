/**
 * Membership (DESIGN.md §9): a loan in at most one portfolio, added to and removed from open
 * portfolios only, every add and remove kept with its dates so membership can be asked as of
 * any past date.
 *
 * - `loan_claims` (unique by loan id) says which portfolio holds a loan now: an add inserts the
 *   claim or finds who holds the loan, a remove deletes it last.
 * - `portfolio_memberships` keeps the history: one record per membership, `added_on` and, once
 *   removed, `removed_on`; a loan is a member on D when added_on ≤ D < removed_on.
 * The portfolio side follows (its first dates and `members_rev`, the latter conditional on the
 * portfolio still being open); if the portfolio closed or sold in between, the add is undone and
 * answered 409. A retried add or remove finishes whatever a crash left undone (history, dates,
 * event: all keyed by the membership id) and answers again.
 */
import type { Model } from "mongoose";
import { BadRequestError, BusinessRuleError, ConflictError, NotFoundError } from "../../shared/errors";
import { isDuplicateKey } from "../../shared/db/crud";
import { PortfolioEvents, type PortfolioMembershipEvent } from "../../shared/contracts/portfolios";
import { applyDatesChange } from "./first-dates";

export interface Membership {
  _id: string;
  loan_id: string;
  portfolio_id: string;
  added_on: string;
  removed_on: string | null;
  source: "static" | "auto_assign";
  removed_by?: string | null;
}

/** Is the loan a member on date D? Membership covers [added_on, removed_on). */
export function memberOn(m: Pick<Membership, "added_on" | "removed_on">, date: string): boolean {
  return m.added_on <= date && (m.removed_on === null || m.removed_on > date);
}

/** A membership's id: the loan, its start, the portfolio and how it came (`auto`, or `s<k>`). */
export function membershipId(loanId: string, date: string, portfolioId: string, how: string): string {
  return `${loanId}:${date}:${portfolioId}:${how}`;
}

export interface MembershipDeps {
  portfolios: Model<any>;
  loans: Model<any>;
  claims: Model<any>;
  memberships: Model<any>;
  publish(subject: string, id: string, payload: unknown): Promise<void>;
  actor: string | null;
}

export function membershipEvent(kind: "added" | "removed", m: Pick<Membership, "_id" | "loan_id" | "portfolio_id" | "source">, date: string, actor: string | null): { id: string; payload: PortfolioMembershipEvent } {
  const id = `portfolio.loan.${kind}:${m._id}`;
  return { id, payload: { event_id: id, portfolio_id: m.portfolio_id, loan_id: m.loan_id, effective_date: date, source: m.source, occurred_at: new Date().toISOString(), actor } };
}

function requireOpen(portfolio: any): void {
  if (portfolio.status !== "open") throw new ConflictError(`portfolio ${portfolio._id} is ${portfolio.status}: loans are added and removed in open portfolios only`, { status: portfolio.status });
}

const loanDates = (doc: any) => ({ first_transaction_date: doc.first_transaction_date ?? null, first_cash_flow_date: doc.first_cash_flow_date ?? null });

export async function addLoan(deps: MembershipDeps, portfolio: any, loanId: string, date: string) {
  const portfolioId = String(portfolio._id);
  requireOpen(portfolio);
  const doc: any = await deps.loans.findById(loanId, { first_transaction_date: 1, first_cash_flow_date: 1, membership_end: 1, "attributes.program_id": 1 }).lean();
  if (!doc) throw new NotFoundError("loan", loanId);
  if (portfolio.program_id && doc.attributes?.program_id !== portfolio.program_id) {
    // Seed 000: a portfolio with a program is scoped to that program's loans.
    throw new BusinessRuleError(`loan ${loanId} is of program ${doc.attributes?.program_id}; portfolio ${portfolioId} holds program ${portfolio.program_id}'s loans only`, "program_scope", { loan_id: loanId });
  }
  let claim: any = await deps.claims.findById(loanId).lean();
  if (claim && claim.portfolio_id !== portfolioId) {
    throw new ConflictError(`loan ${loanId} already belongs to portfolio ${claim.portfolio_id}`, { loan_id: loanId, portfolio_id: claim.portfolio_id });
  }
  if (!claim) {
    if (doc.membership_end && date < doc.membership_end) {
      throw new BadRequestError("invalid request", [{ field: "effective_date", type: "date", message: `'effective_date' must be on or after ${doc.membership_end}, when the loan's last membership ended`, actual: date }]);
    }
    const k = await deps.memberships.countDocuments({ loan_id: loanId });
    claim = { _id: loanId, portfolio_id: portfolioId, since: date, source: "static", membership_id: membershipId(loanId, date, portfolioId, `s${k}`), investor_id: null };
    try {
      await deps.claims.create(claim);
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      throw new ConflictError(`loan ${loanId} was just added to another portfolio`, { loan_id: loanId });
    }
    const still = await deps.portfolios.updateOne({ _id: portfolioId, status: "open" }, { $inc: { members_rev: 1 } });
    if (!still.matchedCount) {
      await deps.claims.deleteOne({ _id: loanId });
      throw new ConflictError(`portfolio ${portfolioId} closed or sold meanwhile`, { portfolio_id: portfolioId });
    }
  }
  const m: Membership = { _id: claim.membership_id, loan_id: loanId, portfolio_id: portfolioId, added_on: claim.since, removed_on: null, source: claim.source, removed_by: null };
  await deps.memberships.updateOne({ _id: m._id }, { $setOnInsert: m }, { upsert: true });
  await applyDatesChange(deps, portfolioId, { kind: "loan_added", loan: loanDates(doc) });
  const ev = membershipEvent("added", m, m.added_on, deps.actor);
  await deps.publish(PortfolioEvents.loanAdded, ev.id, ev.payload);
  return { portfolio_id: portfolioId, loan_id: loanId, member_since: m.added_on, source: m.source };
}

export async function removeLoan(deps: MembershipDeps, portfolio: any, loanId: string, date: string) {
  const portfolioId = String(portfolio._id);
  requireOpen(portfolio);
  const claim: any = await deps.claims.findById(loanId).lean();
  if (!claim || claim.portfolio_id !== portfolioId) throw new NotFoundError(`loan in portfolio ${portfolioId}`, loanId);
  const m: any = await deps.memberships.findById(claim.membership_id).lean();
  const addedOn = m?.added_on ?? claim.since;
  if (date < addedOn) {
    throw new BadRequestError("invalid request", [{ field: "effective_date", type: "date", message: `'effective_date' must be on or after ${addedOn}, when the loan joined`, actual: date }]);
  }
  await deps.memberships.updateOne({ _id: claim.membership_id }, { $set: { removed_on: date, removed_by: "static" } });
  await deps.loans.updateOne({ _id: loanId }, { $set: { membership_end: date } });
  // The claim goes last: until then no other portfolio can take the loan.
  await deps.claims.deleteOne({ _id: loanId });
  await deps.portfolios.updateOne({ _id: portfolioId }, { $inc: { members_rev: 1 } });
  const doc: any = await deps.loans.findById(loanId, { first_transaction_date: 1, first_cash_flow_date: 1 }).lean();
  await applyDatesChange(deps, portfolioId, { kind: "loan_removed", loan: loanDates(doc ?? {}) });
  const ev = membershipEvent("removed", { _id: claim.membership_id, loan_id: loanId, portfolio_id: portfolioId, source: claim.source }, date, deps.actor);
  await deps.publish(PortfolioEvents.loanRemoved, ev.id, ev.payload);
  return { portfolio_id: portfolioId, loan_id: loanId, member_since: addedOn, member_until: date };
}

/** The current members of a portfolio (a page of them when asked): their claims and projection documents. */
export async function currentMembers(deps: Pick<MembershipDeps, "claims" | "loans">, portfolioId: string, fields?: Record<string, 1>, page?: { offset: number; limit: number }) {
  const all: any[] = await deps.claims.find({ portfolio_id: portfolioId }).sort({ _id: 1 }).lean();
  const claims = page ? all.slice(page.offset, page.offset + page.limit) : all;
  if (!claims.length) return [];
  const docs: any[] = await deps.loans.find({ _id: { $in: claims.map((c) => c._id) } }, fields).lean();
  const byId = new Map(docs.map((d) => [d._id, d]));
  return claims.filter((c) => byId.has(c._id)).map((claim) => ({ claim, doc: byId.get(claim._id) }));
}

/** The loans that were members on `date`, each with the membership that covered it. */
export async function membersAsOf(deps: Pick<MembershipDeps, "memberships" | "loans">, portfolioId: string, date: string) {
  const ms = ((await deps.memberships.find({ portfolio_id: portfolioId }).lean()) as Membership[]).filter((m) => memberOn(m, date));
  if (!ms.length) return [];
  const docs: any[] = await deps.loans.find({ _id: { $in: ms.map((m) => m.loan_id) } }).lean();
  const byId = new Map(docs.map((d) => [d._id, d]));
  return ms.sort((a, b) => a.loan_id.localeCompare(b.loan_id)).map((membership) => ({ membership, doc: byId.get(membership.loan_id) ?? { _id: membership.loan_id } }));
}
