/**
 * Static membership (DESIGN.md §9): a loan in at most one portfolio, added to and removed from
 * open portfolios only, every add and remove kept with its dates so membership can be asked as of
 * any past date.
 *
 * "At most one portfolio" is the loan's claim (`loan_claims`, unique by loan id): an add inserts
 * it or finds who holds the loan. The loan's projection document then records its current
 * `portfolio_id` and the membership history (filtered on `_id` alone: the embedded server scans
 * on anything else). The portfolio side follows (its first dates and `members_rev`, the latter
 * conditional on the portfolio still being open); if the portfolio closed or sold in between,
 * the add is undone and answered 409. A retried add of a loan the portfolio already holds
 * finishes whatever a crash left undone (history, dates, event) and answers again, so a crash
 * between the writes heals on retry.
 */
import type { Model } from "mongoose";
import { ConflictError, NotFoundError, BadRequestError } from "../../shared/errors";
import { isDuplicateKey } from "../../shared/db/crud";
import { PortfolioEvents, type PortfolioMembershipEvent } from "../../shared/contracts/portfolios";
import { applyDatesChange } from "./first-dates";

export interface Membership {
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

/** The date before which a new membership may not start: the end of the loan's last one. */
export function lastMembershipEnd(memberships: readonly Membership[]): string | null {
  let end: string | null = null;
  for (const m of memberships) {
    const d = m.removed_on ?? m.added_on;
    if (end === null || d > end) end = d;
  }
  return end;
}

export function membershipEventId(kind: "added" | "removed", loanId: string, portfolioId: string, date: string, n: number): string {
  return `portfolio.loan.${kind}:${portfolioId}:${loanId}:${date}:${n}`;
}

interface Deps {
  portfolios: Model<any>;
  loans: Model<any>;
  claims: Model<any>;
  publish(subject: string, id: string, payload: unknown): Promise<void>;
  actor: string | null;
}

function membershipEvent(kind: "added" | "removed", loanId: string, portfolioId: string, date: string, n: number, source: "static" | "auto_assign", actor: string | null): { id: string; payload: PortfolioMembershipEvent } {
  const id = membershipEventId(kind, loanId, portfolioId, date, n);
  return { id, payload: { event_id: id, portfolio_id: portfolioId, loan_id: loanId, effective_date: date, source, occurred_at: new Date().toISOString(), actor } };
}

function requireOpen(portfolio: any): void {
  if (portfolio.status !== "open") throw new ConflictError(`portfolio ${portfolio._id} is ${portfolio.status}: loans are added and removed in open portfolios only`, { status: portfolio.status });
}

export async function addLoan(deps: Deps, portfolio: any, loanId: string, date: string) {
  const portfolioId = String(portfolio._id);
  requireOpen(portfolio);
  const doc: any = await deps.loans.findById(loanId).lean();
  if (!doc) throw new NotFoundError("loan", loanId);
  const memberships: Membership[] = doc.memberships ?? [];
  let claim: any = await deps.claims.findById(loanId).lean();
  if (claim && claim.portfolio_id !== portfolioId) {
    throw new ConflictError(`loan ${loanId} already belongs to portfolio ${claim.portfolio_id}`, { loan_id: loanId, portfolio_id: claim.portfolio_id });
  }
  if (!claim) {
    const end = lastMembershipEnd(memberships);
    if (end && date < end) throw new BadRequestError("invalid request", [{ field: "effective_date", type: "date", message: `'effective_date' must be on or after ${end}, when the loan's last membership ended`, actual: date }]);
    claim = { _id: loanId, portfolio_id: portfolioId, since: date, source: "static" };
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
  // The history entry, unless a first attempt already wrote it.
  const last = memberships.at(-1);
  const recorded = doc.portfolio_id === portfolioId && last?.portfolio_id === portfolioId && last.removed_on === null;
  const n = recorded ? memberships.length - 1 : memberships.length;
  if (!recorded) {
    const entry: Membership = { portfolio_id: portfolioId, added_on: claim.since, removed_on: null, source: "static", removed_by: null };
    await deps.loans.updateOne({ _id: loanId }, { $set: { portfolio_id: portfolioId }, $push: { memberships: entry } });
  }
  await applyDatesChange(deps.portfolios, deps.loans, portfolioId, { kind: "loan_added", loan: { first_transaction_date: doc.first_transaction_date ?? null, first_cash_flow_date: doc.first_cash_flow_date ?? null } });
  const ev = membershipEvent("added", loanId, portfolioId, claim.since, n, "static", deps.actor);
  await deps.publish(PortfolioEvents.loanAdded, ev.id, ev.payload);
  return { portfolio_id: portfolioId, loan_id: loanId, member_since: claim.since as string, source: "static" as const };
}

export async function removeLoan(deps: Deps, portfolio: any, loanId: string, date: string) {
  const portfolioId = String(portfolio._id);
  requireOpen(portfolio);
  const claim: any = await deps.claims.findById(loanId).lean();
  const doc: any = claim?.portfolio_id === portfolioId ? await deps.loans.findById(loanId).lean() : null;
  if (!doc) throw new NotFoundError(`loan in portfolio ${portfolioId}`, loanId);
  const memberships: Membership[] = doc.memberships ?? [];
  const n = memberships.length - 1;
  const current = memberships[n];
  if (current && date < current.added_on) {
    throw new BadRequestError("invalid request", [{ field: "effective_date", type: "date", message: `'effective_date' must be on or after ${current.added_on}, when the loan joined`, actual: date }]);
  }
  if (current?.portfolio_id === portfolioId && current.removed_on === null) {
    const next = memberships.map((m, i) => (i === n ? { ...m, removed_on: date, removed_by: "static" } : m));
    await deps.loans.updateOne({ _id: loanId }, { $set: { portfolio_id: null, memberships: next } });
  }
  // The claim goes last: until then no other portfolio can take the loan.
  await deps.claims.deleteOne({ _id: loanId });
  await deps.portfolios.updateOne({ _id: portfolioId }, { $inc: { members_rev: 1 } });
  await applyDatesChange(deps.portfolios, deps.loans, portfolioId, { kind: "loan_removed", loan: { first_transaction_date: doc.first_transaction_date ?? null, first_cash_flow_date: doc.first_cash_flow_date ?? null } });
  const ev = membershipEvent("removed", loanId, portfolioId, date, n, "static", deps.actor);
  await deps.publish(PortfolioEvents.loanRemoved, ev.id, ev.payload);
  return { portfolio_id: portfolioId, loan_id: loanId, member_since: current?.added_on ?? null, member_until: date };
}

/** The loans that were members on `date`, each with the membership that covered it. */
export async function membersAsOf(loans: Model<any>, portfolioId: string, date: string) {
  const docs = await loans.find({ "memberships.portfolio_id": portfolioId }).sort({ _id: 1 }).lean();
  const out: { doc: any; membership: Membership }[] = [];
  for (const doc of docs as any[]) {
    const m = (doc.memberships as Membership[]).find((x) => x.portfolio_id === portfolioId && memberOn(x, date));
    if (m) out.push({ doc, membership: m });
  }
  return out;
}

export { membershipEvent };
