/**
 * Lease schedule (DESIGN §3): rent in arrears = round((C − R/(1+i)^n)·i / (1 − (1+i)^−n)).
 * A lease charges rent per period, so each row's interest is round(b·i) on the lease balance at
 * the periodic rate i of the payment formula (not a day count: the rent does not change with the
 * month's length). The last rent settles the cents so the balance after it is exactly R (and a
 * lease whose rounded rent reaches R early ends there).
 */
import { leasePayment } from "../annuity";
import { roundMoney } from "../rounding";
import { monthlyDueDates } from "./dueDates";
import { scheduleRow, type RawRow } from "./rows";
import type { NormalizedTerms } from "./terms";

export function leaseRows(t: NormalizedTerms): RawRow[] {
  const i = t.method.periodicRate(t.rate, t.dc);
  const rent = leasePayment(t.principal, t.residual, i, t.n);
  const dues = monthlyDueDates(t.firstPayment, t.n);
  const rows: RawRow[] = [];
  let balance = t.principal;
  for (let k = 1; k <= t.n; k++) {
    const interest = roundMoney(balance.times(i));
    let payment = k === t.n ? balance.plus(interest).minus(t.residual) : rent;
    let principal = payment.minus(interest);
    if (principal.gt(balance.minus(t.residual))) {
      // a rent rounded up on a tiny lease would take the balance below the residual: stop at it
      principal = balance.minus(t.residual);
      payment = principal.plus(interest);
    }
    balance = balance.minus(principal);
    rows.push(
      scheduleRow({
        number: k,
        due: dues[k - 1],
        payment,
        principal,
        interest,
        balance,
        rate: t.rate,
      }),
    );
    if (balance.eq(t.residual)) break;
  }
  return rows;
}
