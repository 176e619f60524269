/**
 * A tape's totals and its reconciliation with the portfolio's snapshot of the same date
 * (DESIGN.md §11, issue 12 point 4): the loan count and total principal balance must be equal, or
 * the run fails with both figures. Sums are decimal.js, never floats.
 */
import Decimal from "decimal.js";
import type { TapeLoan } from "./catalogue";

export interface TapeTotals {
  loan_count: number;
  total_balance: string;
  total_interest_receivable: string;
  total_arrears: string;
  total_collected: string;
  payment_rows: number;
}

const CENTS = /^-?\d+\.\d{2}$/;

/**
 * An exact sum of money strings. Wire money has two decimals: those are added as integer cents
 * (BigInt), a million times faster than decimal.js objects; anything else goes through decimal.js.
 */
export class MoneySum {
  private cents = 0n;
  private other: Decimal | null = null;

  add(v: string | null | undefined): void {
    if (!v) return;
    if (CENTS.test(v)) this.cents += BigInt(v.replace(".", ""));
    else this.other = (this.other ?? new Decimal(0)).plus(v);
  }

  toFixed2(): string {
    const total = new Decimal(this.cents.toString()).dividedBy(100);
    return (this.other ? total.plus(this.other) : total).toFixed(2);
  }
}

export class TotalsAccumulator {
  private count = 0;
  private readonly balance = new MoneySum();
  private readonly interest = new MoneySum();
  private readonly arrears = new MoneySum();
  private readonly collected = new MoneySum();
  private payments = 0;

  add(loan: TapeLoan): void {
    this.count += 1;
    this.balance.add(loan.state.principal_balance);
    this.interest.add(loan.state.interest_receivable);
    this.arrears.add(loan.state.past_due_amount);
    this.collected.add(loan.state.total_collected);
    this.payments += loan.cash_flows?.length ?? 0;
  }

  result(): TapeTotals {
    return {
      loan_count: this.count,
      total_balance: this.balance.toFixed2(),
      total_interest_receivable: this.interest.toFixed2(),
      total_arrears: this.arrears.toFixed2(),
      total_collected: this.collected.toFixed2(),
      payment_rows: this.payments,
    };
  }
}

export interface Reconciliation {
  ok: boolean;
  tape_loan_count: number;
  snapshot_loan_count: number;
  tape_total_balance: string;
  snapshot_total_balance: string;
  message: string;
}

export function reconcile(totals: Pick<TapeTotals, "loan_count" | "total_balance">, snapshot: { loan_count: number; total_balance: string }): Reconciliation {
  const countOk = totals.loan_count === Number(snapshot.loan_count);
  const balanceOk = new Decimal(totals.total_balance).equals(new Decimal(snapshot.total_balance ?? 0));
  const figures =
    `tape ${totals.loan_count} loans, balance ${totals.total_balance}; ` +
    `snapshot ${snapshot.loan_count} loans, balance ${new Decimal(snapshot.total_balance ?? 0).toFixed(2)}`;
  return {
    ok: countOk && balanceOk,
    tape_loan_count: totals.loan_count,
    snapshot_loan_count: Number(snapshot.loan_count),
    tape_total_balance: totals.total_balance,
    snapshot_total_balance: new Decimal(snapshot.total_balance ?? 0).toFixed(2),
    message: countOk && balanceOk ? `reconciled: ${figures}` : `tape does not reconcile with the snapshot: ${figures}`,
  };
}
