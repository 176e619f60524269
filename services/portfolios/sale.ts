/**
 * The sale of a portfolio (DESIGN.md §9, seed 000 "Sold/Transferred Workflow"): records price,
 * date and buyer with one LoanAssignment line per member (prices split by balance unless given
 * per loan, summing exactly to the price), marks the portfolio sold, and emits the durable
 * `portfolio.sold`, from which the investors service records the assignments.
 *
 * Everything is checked before anything is written; the one commit is a single guarded write of
 * the portfolio (its version and members_rev as read), so a refused or lost sale writes nothing,
 * and assignments exist only for a committed sale. Assignment ids are `<portfolio>:<loan>`, the
 * event id `portfolio.sold:<portfolio>`: a retried sale (same buyer, date and price) re-announces
 * the same event and the investors service records each assignment once.
 */
import Decimal from "decimal.js";
import type { Model } from "mongoose";
import { PortfolioEvents, type PortfolioSoldEvent } from "../../shared/contracts/portfolios";
import { BadRequestError, BusinessRuleError, ConflictError, type FieldError } from "../../shared/errors";
import { splitPriceByBalance } from "../../shared/portfolios/price-split";
import { currentMembers } from "./membership";

/** One event carries every line; JetStream's default 1 MB message bounds a sale's size. */
export const SALE_MAX_LOANS = 5000;

export interface SellBody {
  investor_id: string;
  sale_date: string;
  price: string;
  prices?: { loan_id: string; price: string }[];
}

export interface SaleDeps {
  portfolios: Model<any>;
  loans: Model<any>;
  claims: Model<any>;
  investorExists(id: string): Promise<boolean>;
  publish(subject: string, id: string, payload: unknown): Promise<void>;
  actor: string | null;
}

export const assignmentId = (portfolioId: string, loanId: string) => `${portfolioId}:${loanId}`;
export const soldEventId = (portfolioId: string) => `portfolio.sold:${portfolioId}`;

function samePrice(a: unknown, b: string): boolean {
  return a != null && new Decimal(String(a)).eq(b);
}

/** The per-loan prices: given (checked against the members and the total) or split by balance. */
export function saleLines(portfolioId: string, body: SellBody, members: { loan_id: string; balance: string }[]) {
  if (!body.prices) {
    return splitPriceByBalance(body.price, members).map((p, i) => ({ assignment_id: assignmentId(portfolioId, p.loan_id), loan_id: p.loan_id, purchase_price: p.purchase_price, principal_balance: members[i].balance }));
  }
  const errors: FieldError[] = [];
  const balances = new Map(members.map((m) => [m.loan_id, m.balance]));
  const seen = new Set<string>();
  body.prices.forEach((p, i) => {
    if (!balances.has(p.loan_id)) errors.push({ field: `prices[${i}].loan_id`, type: "exists", message: `'prices[${i}].loan_id' ${p.loan_id} is not a loan of this portfolio`, actual: p.loan_id });
    else if (seen.has(p.loan_id)) errors.push({ field: `prices[${i}].loan_id`, type: "unique", message: `'prices[${i}].loan_id' ${p.loan_id} is priced twice`, actual: p.loan_id });
    seen.add(p.loan_id);
  });
  const missing = members.filter((m) => !seen.has(m.loan_id)).map((m) => m.loan_id);
  if (missing.length) errors.push({ field: "prices", type: "required", message: `'prices' must price every loan of the portfolio; missing ${missing.join(", ")}`, actual: missing });
  const total = body.prices.reduce((s, p) => s.plus(p.price), new Decimal(0));
  if (!total.eq(body.price)) errors.push({ field: "prices", type: "sum", message: `'prices' sum to ${total.toFixed(2)}, not the price ${new Decimal(body.price).toFixed(2)}`, actual: total.toFixed(2) });
  if (errors.length) throw new BadRequestError("invalid request", errors);
  return body.prices.map((p) => ({ assignment_id: assignmentId(portfolioId, p.loan_id), loan_id: p.loan_id, purchase_price: new Decimal(p.price).toFixed(2), principal_balance: balances.get(p.loan_id)! }));
}

export function soldEvent(portfolio: any, actor: string | null): PortfolioSoldEvent {
  const id = String(portfolio._id);
  return {
    event_id: soldEventId(id),
    portfolio_id: id,
    investor_id: portfolio.sale.investor_id,
    sale_date: portfolio.sale.sale_date,
    price: String(portfolio.sale.price),
    assignments: portfolio.sale.lines.map((l: any) => ({ assignment_id: l.assignment_id, loan_id: l.loan_id, purchase_price: String(l.purchase_price), principal_balance: String(l.principal_balance) })),
    occurred_at: new Date(portfolio.sale.sold_at).toISOString(),
    actor,
  };
}

export async function sellPortfolio(deps: SaleDeps, portfolio: any, body: SellBody): Promise<any> {
  const portfolioId = String(portfolio._id);
  if (portfolio.status === "sold") {
    const s = portfolio.sale;
    const retry = s && s.investor_id === body.investor_id && s.sale_date === body.sale_date && samePrice(s.price, body.price);
    if (!retry) throw new ConflictError(`portfolio ${portfolioId} is sold: a sale is final`, { status: "sold" });
    await finishSale(deps, portfolio);
    return portfolio;
  }
  const members = (await currentMembers(deps, portfolioId, { state: 1 })).map(({ doc }) => ({ loan_id: String(doc._id), balance: String(doc.state?.principal_balance ?? "0") }));
  if (!(await deps.investorExists(body.investor_id))) {
    throw new BadRequestError("invalid request", [{ field: "investor_id", type: "exists", message: `'investor_id' ${body.investor_id} is not an investor`, actual: body.investor_id }]);
  }
  if (!members.length) throw new BusinessRuleError(`portfolio ${portfolioId} has no loans to sell`, "empty_portfolio");
  if (members.length > SALE_MAX_LOANS) throw new BusinessRuleError(`a sale carries at most ${SALE_MAX_LOANS} loans; portfolio ${portfolioId} has ${members.length}`, "sale_too_large");
  const unpaid = members.filter((m) => !new Decimal(m.balance).gt(0)).map((m) => m.loan_id);
  if (unpaid.length) throw new BusinessRuleError(`loans with no outstanding balance cannot be sold: ${unpaid.join(", ")}`, "zero_balance", { loan_ids: unpaid });
  const lines = saleLines(portfolioId, body, members);
  const sale = { investor_id: body.investor_id, sale_date: body.sale_date, price: new Decimal(body.price).toFixed(2), sold_at: new Date(), actor: deps.actor, lines };
  const committed = await deps.portfolios.findOneAndUpdate(
    { _id: portfolioId, version: portfolio.version, members_rev: portfolio.members_rev ?? 0, status: { $in: ["open", "closed"] } },
    { $set: { status: "sold", sale }, $inc: { version: 1 } },
    { returnDocument: "after" },
  );
  if (!committed) throw new ConflictError(`portfolio ${portfolioId} changed while it was being sold; retry`, { portfolio_id: portfolioId });
  await finishSale(deps, committed.toObject());
  return committed;
}

/** After the commit (or on a retry): the loans' owner, then the event. Both repeatable. */
async function finishSale(deps: SaleDeps, portfolio: any): Promise<void> {
  const portfolioId = String(portfolio._id);
  await deps.claims.updateMany({ portfolio_id: portfolioId }, { $set: { investor_id: portfolio.sale.investor_id } });
  const event = soldEvent(portfolio, deps.actor);
  await deps.publish(PortfolioEvents.sold, event.event_id, event);
}
