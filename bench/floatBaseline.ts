/**
 * The floor for the bench: the same work as the engine — read the wire strings, compute, write
 * wire strings — done with plain binary floats (what a naive implementation would do, and what
 * DESIGN §2 forbids for money). Not used anywhere but bench/run.ts.
 */

const pad2 = (x: number) => (x < 10 ? "0" + x : String(x));
const round2 = (x: number) => Math.round(x * 100) / 100;
const isoOf = (ms: number) => {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
};

interface Ymd {
  y: number;
  m: number;
  d: number;
}
const parseYmd = (s: string): Ymd => ({ y: +s.slice(0, 4), m: +s.slice(5, 7), d: +s.slice(8, 10) });
const lastDay = (y: number, m: number) => new Date(Date.UTC(y, m, 0)).getUTCDate();
const isFebEnd = (x: Ymd) => x.m === 2 && x.d === lastDay(x.y, 2);
function days30360(a: Ymd, b: Ymd): number {
  let d1 = a.d;
  let d2 = b.d;
  if (isFebEnd(a) && isFebEnd(b)) d2 = 30;
  if (isFebEnd(a)) d1 = 30;
  if (d2 === 31 && d1 >= 30) d2 = 30;
  if (d1 === 31) d1 = 30;
  return 360 * (b.y - a.y) + 30 * (b.m - a.m) + (d2 - d1);
}

export interface FloatRow {
  number: number;
  due_date: string;
  payment: string;
  principal: string;
  interest: string;
  balance: string;
}

/** A level-payment schedule, simple interest, 30/360, in floats. */
export function floatSchedule(t: { principal: string; annual_rate: string; term_months: number; disbursement_date: string; first_payment_date: string }): FloatRow[] {
  const P = Number(t.principal);
  const r = Number(t.annual_rate);
  const n = t.term_months;
  const i = r / 12;
  const payment = round2((P * i) / (1 - Math.pow(1 + i, -n)));
  const first = parseYmd(t.first_payment_date);
  let prev = parseYmd(t.disbursement_date);
  let b = P;
  const rows: FloatRow[] = [];
  for (let k = 1; k <= n; k++) {
    const total = first.y * 12 + first.m - 1 + (k - 1);
    const y = Math.floor(total / 12);
    const m = (total % 12) + 1;
    const due = { y, m, d: Math.min(first.d, lastDay(y, m)) };
    const interest = round2((b * r * days30360(prev, due)) / 360);
    const pay = k === n ? round2(b + interest) : payment;
    const principal = round2(pay - interest);
    b = round2(b - principal);
    rows.push({ number: k, due_date: `${due.y}-${pad2(due.m)}-${pad2(due.d)}`, payment: pay.toFixed(2), principal: principal.toFixed(2), interest: interest.toFixed(2), balance: b.toFixed(2) });
    prev = due;
  }
  return rows;
}

/** Newton XIRR in floats, Excel style. */
export function floatXirr(flows: { date: string; amount: string }[]): number | null {
  const t0 = Date.parse(flows[0].date + "T00:00:00Z");
  const t = flows.map((f) => (Date.parse(f.date + "T00:00:00Z") - t0) / 86400000 / 365);
  const a = flows.map((f) => Number(f.amount));
  let x = 0.1;
  for (let iter = 0; iter < 100; iter++) {
    let f = 0;
    let df = 0;
    for (let j = 0; j < a.length; j++) {
      const v = Math.pow(1 + x, -t[j]);
      f += a[j] * v;
      df -= (t[j] * a[j] * v) / (1 + x);
    }
    const next = x - f / df;
    if (!Number.isFinite(next)) return null;
    if (Math.abs(next - x) < 1e-12) return next;
    x = next;
  }
  return null;
}

export interface FloatState {
  principal_balance: string;
  accrued_interest: string;
  accrued_through: string;
  annual_rate: string;
  credit_balance: string;
  due: { due_date: string; interest: string; fees: string; principal: string }[];
  installments: { number: number; due_date: string; payment: string }[];
}

/** applyPayment in floats: accrue to the date, bill due installments, allocate, prepay, write back. */
export function floatApplyPayment(s: FloatState, payment: { amount: string; date: string }, order: string[]): { state: FloatState; allocation: Record<string, string> } {
  const rate = Number(s.annual_rate);
  let principal = Number(s.principal_balance);
  let accrued = Number(s.accrued_interest);
  let anchor = parseYmd(s.accrued_through);
  const date = parseYmd(payment.date);
  const due = s.due.map((d) => ({ due_date: d.due_date, interest: Number(d.interest), fees: Number(d.fees), principal: Number(d.principal) }));
  let next = 0;
  const accrue = (to: Ymd) => {
    accrued = round2(accrued + round2((principal * rate * days30360(anchor, to)) / 360));
    anchor = to;
  };
  while (next < s.installments.length && s.installments[next].due_date <= payment.date) {
    const inst = s.installments[next++];
    accrue(parseYmd(inst.due_date));
    const pay = Number(inst.payment);
    const interest = Math.min(accrued, pay);
    const billed = due.reduce((x, d) => x + d.principal, 0);
    due.push({ due_date: inst.due_date, interest, fees: 0, principal: Math.min(round2(pay - interest), round2(principal - billed)) });
    accrued = 0;
  }
  accrue(date);
  let left = Number(payment.amount);
  const totals: Record<string, number> = { interest: 0, fees: 0, principal: 0 };
  while (due.length && left > 0) {
    const item = due[0] as unknown as Record<string, number>;
    for (const c of order) {
      const x = Math.min(item[c], left);
      item[c] = round2(item[c] - x);
      totals[c] = round2(totals[c] + x);
      left = round2(left - x);
    }
    if (item.interest === 0 && item.fees === 0 && item.principal === 0) due.shift();
    else break;
  }
  principal = round2(principal - totals.principal);
  const prepay = Math.min(left, principal);
  principal = round2(principal - prepay);
  totals.principal = round2(totals.principal + prepay);
  const credit = round2(left - prepay);
  return {
    state: {
      ...s,
      principal_balance: principal.toFixed(2),
      accrued_interest: accrued.toFixed(2),
      accrued_through: isoOf(Date.UTC(anchor.y, anchor.m - 1, anchor.d)),
      credit_balance: round2(Number(s.credit_balance) + credit).toFixed(2),
      due: due.map((d) => ({ due_date: d.due_date, interest: d.interest.toFixed(2), fees: d.fees.toFixed(2), principal: d.principal.toFixed(2) })),
      installments: s.installments.slice(next),
    },
    allocation: { amount: payment.amount, interest: totals.interest.toFixed(2), fees: totals.fees.toFixed(2), principal: totals.principal.toFixed(2), credit: credit.toFixed(2) },
  };
}
