/**
 * Finance engine bench (issue 3): 30-year monthly schedules per second, a 10,000-flow XIRR, and
 * applyPayment per second — each beside the same work done with plain floats (the floor) and the
 * ratio. Run: npm run bench -- finance
 */
import { applyPayment, generateSchedule, openLoan, xirr, type LoanState, type LoanTerms } from "../../shared/finance";
import { floatApplyPayment, floatSchedule, floatXirr, type FloatState } from "../floatBaseline";

/** Calls fn repeatedly for about `ms` after a warm-up; returns microseconds per call. */
function measure(fn: () => unknown, ms = 1500): number {
  const warmUntil = Date.now() + Math.min(400, ms / 3);
  while (Date.now() < warmUntil) fn();
  let calls = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(ms) * 1_000_000n;
  let elapsed = 0n;
  while (elapsed < budget) {
    for (let k = 0; k < 10; k++) fn();
    calls += 10;
    elapsed = process.hrtime.bigint() - start;
  }
  return Number(elapsed) / 1000 / calls;
}

const fmt = (x: number, digits = 1) => x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

const terms: LoanTerms = {
  program_type: "installment",
  principal: "350000.00",
  annual_rate: "0.0675",
  term_months: 360,
  disbursement_date: "2026-01-01",
  first_payment_date: "2026-02-01",
  day_count_convention: "30_360",
  accrual_method: "simple",
};

// 1. schedules
const rows = generateSchedule(terms);
const floatRows = floatSchedule(terms as { principal: string; annual_rate: string; term_months: number; disbursement_date: string; first_payment_date: string });
if (rows.length !== 360 || floatRows.length !== 360) throw new Error("bench schedules must have 360 rows");
const scheduleUs = measure(() => generateSchedule(terms));
const floatScheduleUs = measure(() => floatSchedule(terms as never));

// 2. XIRR over 10,000 flows: 500 loans of 1,000.00 each repaid by 19 monthly collections
const flows: { date: string; amount: string }[] = [];
const pad = (x: number) => String(x).padStart(2, "0");
const iso = (day: number) => {
  const d = new Date(Date.UTC(2020, 0, 1) + day * 86400000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
};
for (let loan = 0; loan < 500; loan++) {
  const start = loan * 3;
  flows.push({ date: iso(start), amount: "-1000.00" });
  for (let k = 1; k < 20; k++) flows.push({ date: iso(start + 30 * k), amount: "56.25" });
}
if (flows.length !== 10_000) throw new Error("bench XIRR must have 10,000 flows");
const ours = xirr(flows)!.toNumber();
const theirs = floatXirr(flows)!;
if (Math.abs(ours - theirs) > 1e-9) throw new Error(`XIRR disagree: ${ours} vs ${theirs}`);
const xirrUs = measure(() => xirr(flows), 2000);
const floatXirrUs = measure(() => floatXirr(flows), 2000);

// 3. applyPayment: the 13th scheduled payment of the 30-year loan (347 installments still ahead)
let state: LoanState = openLoan(terms);
for (let k = 0; k < 12; k++) state = applyPayment(state, { amount: rows[k].payment, date: rows[k].due_date }, null).state;
const payment = { amount: rows[12].payment, date: rows[12].due_date };
const order = ["interest", "fees", "principal"];
const check = applyPayment(state, payment, order);
if (check.state.principal_balance !== rows[12].balance) throw new Error("bench payment must reproduce the schedule");
const floatState: FloatState = {
  principal_balance: state.principal_balance,
  accrued_interest: state.accrued_interest,
  accrued_through: state.accrued_through,
  annual_rate: state.annual_rate,
  credit_balance: state.credit_balance,
  due: [],
  installments: state.installments.map((i) => ({ number: i.number, due_date: i.due_date, payment: i.payment })),
};
if (floatApplyPayment(floatState, payment, order).state.principal_balance !== rows[12].balance) throw new Error("float payment must reproduce the schedule");
const paymentUs = measure(() => applyPayment(state, payment, order));
const floatPaymentUs = measure(() => floatApplyPayment(floatState, payment, order));

const lines: [string, string, string, string][] = [
  ["work", "decimal engine", "plain floats", "ratio"],
  ["30-year monthly schedule (360 rows)", `${fmt(scheduleUs / 1000, 3)} ms  (${fmt(1e6 / scheduleUs, 0)}/s)`, `${fmt(floatScheduleUs / 1000, 3)} ms  (${fmt(1e6 / floatScheduleUs, 0)}/s)`, `${fmt(scheduleUs / floatScheduleUs)}x`],
  ["XIRR, 10,000 flows", `${fmt(xirrUs / 1000, 2)} ms`, `${fmt(floatXirrUs / 1000, 2)} ms`, `${fmt(xirrUs / floatXirrUs)}x`],
  ["applyPayment (mid-life 30-year loan)", `${fmt(paymentUs, 1)} µs  (${fmt(1e6 / paymentUs, 0)}/s)`, `${fmt(floatPaymentUs, 1)} µs  (${fmt(1e6 / floatPaymentUs, 0)}/s)`, `${fmt(paymentUs / floatPaymentUs)}x`],
];
const widths = [0, 1, 2, 3].map((c) => Math.max(...lines.map((l) => l[c].length)));
console.log(`finance engine bench — node ${process.version}`);
for (const [i, l] of lines.entries()) {
  console.log(l.map((cell, c) => cell.padEnd(widths[c])).join("  |  "));
  if (i === 0) console.log(widths.map((w) => "-".repeat(w)).join("--+--"));
}
const targets = [
  [`360-row schedule under 1 ms`, scheduleUs < 1000],
  [`schedule within 10x of floats`, scheduleUs / floatScheduleUs <= 10],
  [`XIRR within 10x of floats`, xirrUs / floatXirrUs <= 10],
  [`applyPayment within 10x of floats`, paymentUs / floatPaymentUs <= 10],
] as const;
console.log("");
for (const [name, ok] of targets) console.log(`${ok ? "met   " : "MISSED"}  ${name}`);
