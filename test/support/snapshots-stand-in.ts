/**
 * A stand-in for the `snapshots` service, answering the three actions the tapes service calls
 * (issue 12 brief), from the real system's data: the member loans as of D are the portfolios
 * service's membership view (`portfolios.listLoans { as_of }`, each loan's attributes and position
 * from the loans' durable events), their cash flows the loans service's ledger, and the snapshot's
 * loan count and total balance are summed from those loans with decimal.js.
 *
 * When the real snapshots service is merged, the tapes tests should start it instead of this.
 * `skew` lets a test make the snapshot disagree with the loans (the reconciliation failure).
 */
import Decimal from "decimal.js";
import type { ServiceSchema } from "moleculer";
import { cashClassOf, type TransactionType } from "../../shared/contracts/loans";

export interface SnapshotsStandIn {
  schema: ServiceSchema;
  /** Added to the snapshot's figures (not to the loans): makes a reconciliation fail. */
  skew: { loans: number; balance: string };
  calls: string[];
}

export function snapshotsStandIn(): SnapshotsStandIn {
  const skew = { loans: 0, balance: "0.00" };
  const calls: string[] = [];

  async function memberLoans(broker: any, portfolio_id: string, business_date: string) {
    const out: any[] = [];
    for (let offset = 0; ; offset += 500) {
      const page = await broker.call("portfolios.listLoans", { id: portfolio_id, as_of: business_date, limit: 500, offset });
      out.push(...page.items);
      if (out.length >= page.total || !page.items.length) break;
    }
    return Promise.all(
      out.map(async (m) => {
        const ledger = await broker.call("loans.transactions", { id: m.loan_id, limit: 500, offset: 0 });
        const cash_flows = ledger.items
          .filter((t: any) => t.status === "booked" && t.trade_date <= business_date && cashClassOf(t.type as TransactionType))
          .map((t: any) => ({ date: t.trade_date, amount: cashClassOf(t.type) === "cash_outflow" ? new Decimal(t.amount).neg().toFixed(2) : t.amount, type: t.type }));
        return { loan_id: m.loan_id, version: m.version, attributes: m.attributes, state: m.state, cash_flows };
      }),
    );
  }

  async function snapshot(broker: any, portfolio_id: string, business_date: string) {
    const loans = await memberLoans(broker, portfolio_id, business_date);
    const total = loans.reduce((s, l) => s.plus(l.state.principal_balance), new Decimal(0));
    return { portfolio_id, business_date, loan_count: loans.length + skew.loans, total_balance: total.plus(skew.balance).toFixed(2) };
  }

  const schema: ServiceSchema = {
    name: "snapshots",
    actions: {
      get: {
        params: { portfolio_id: "string", business_date: "string" },
        handler(ctx: any) {
          calls.push(`get ${ctx.params.business_date}`);
          return snapshot(this.broker, ctx.params.portfolio_id, ctx.params.business_date);
        },
      },
      take: {
        params: { portfolio_id: "string", business_date: { type: "string", optional: true } },
        handler(ctx: any) {
          calls.push(`take ${ctx.params.business_date}`);
          return snapshot(this.broker, ctx.params.portfolio_id, ctx.params.business_date);
        },
      },
      portfolioLoans: {
        params: { portfolio_id: "string", business_date: "string" },
        handler(ctx: any) {
          calls.push(`portfolioLoans ${ctx.params.business_date}`);
          return memberLoans(this.broker, ctx.params.portfolio_id, ctx.params.business_date);
        },
      },
    },
  };
  return { schema, skew, calls };
}
