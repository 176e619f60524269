/**
 * Issue 9 points 1, 4 and 5: the close of business walked day by day — buckets, one late fee per
 * missed installment, delinquent after grace, charged off on the threshold day, cured by a
 * payment the same day; same-day prepayments; variable-rate resets that hit the floor and the
 * ceiling (hand values); reruns that change nothing.
 */
import Decimal from "decimal.js";
import { DateTime } from "luxon";
import { makeProduct, ok, openLoan, pay, startLoanSystem, type LoanSystem } from "../../support/loans";
import { TEST_TOKENS as T } from "../../support/system";
import { bucketHistoryOf } from "../../../services/loans/loan-views";
import { decodeLoan } from "../../../services/loans/stored-loan";

let sys: LoanSystem;
let loans: any;
beforeAll(async () => {
  sys = await startLoanSystem("loans_cob");
  loans = sys.core.getLocalService("loans");
}, 60_000);
afterAll(async () => sys?.stop());

const at = (d: string) => {
  loans.settings.businessDate = d;
};
const close = (d: string) => {
  at(d);
  return sys.core.call("loans.closeOfBusiness", { business_date: d }) as Promise<any>;
};
const next = (d: string, n = 1) => DateTime.fromISO(d, { zone: "utc" }).plus({ days: n }).toISODate()!;
const get = (id: string) => ok(sys.api("GET", `/api/v1/loans/${id}`, { token: T.analyst }));
const bucketOf = (dpd: number) => (dpd < 1 ? "current" : dpd < 30 ? "1_29" : dpd < 60 ? "30_59" : dpd < 90 ? "60_89" : dpd < 120 ? "90_119" : "120_plus");

describe("a loan that stops paying, followed for 130 days", () => {
  it("moves through every bucket, is fined once per missed installment, and is charged off on day 120", async () => {
    const { product_id } = await makeProduct(sys.api, { fees: [{ fee_type: "late", calculation: "flat", amount: "25.00" }], product: { grace_period_days: 10 } });
    at("2026-01-01");
    const loan = await openLoan(sys.api, { product_id, principal: "12000.00", term_months: 12, annual_rate: "0.12", first_payment_date: "2026-02-01" }, "2026-01-01");
    const seenBuckets: string[] = [];
    let day = "2026-02-01";
    for (let i = 0; i <= 130; i++, day = next(day)) {
      await close(day);
      const l = await get(loan.id);
      const dpd = DateTime.fromISO(day).diff(DateTime.fromISO("2026-02-01"), "days").days;
      if (l.status === "charged_off") {
        // the threshold day: 2026-02-01 + 120 days
        expect(day).toBe("2026-06-01");
        break;
      }
      expect(l.position.days_past_due).toBe(dpd);
      expect(l.position.bucket).toBe(bucketOf(dpd));
      expect(l.status).toBe(dpd > 10 ? "delinquent" : "active");
      if (seenBuckets[seenBuckets.length - 1] !== l.position.bucket) seenBuckets.push(l.position.bucket);
    }
    expect(seenBuckets).toEqual(["current", "1_29", "30_59", "60_89", "90_119"]);
    const final = await get(loan.id);
    expect(final.status).toBe("charged_off");
    expect(final.closed_through ?? final.position.closed_through).toBe("2026-06-01");
    const txs = (await ok(sys.api("GET", `/api/v1/loans/${loan.id}/transactions?limit=100`, { token: T.analyst }))).items;
    // installments due 02-01, 03-01, 04-01, 05-01 were each late (11 days after due) before 06-01
    const fees = txs.filter((t: any) => t.type === "fee");
    expect(fees.map((f: any) => [f.trade_date, f.amount, f.fee_type])).toEqual([
      ["2026-02-12", "25.00", "late"],
      ["2026-03-12", "25.00", "late"],
      ["2026-04-12", "25.00", "late"],
      ["2026-05-12", "25.00", "late"],
    ]);
    const co = txs.filter((t: any) => t.type === "charge_off");
    expect(co).toHaveLength(1);
    expect(co[0]).toMatchObject({ trade_date: "2026-06-01" });
    expect(co[0].components.principal).toBe("12000.00");
    expect(co[0].components.fees).toBe("100.00");
    expect(final.status_history.map((h: any) => h.to)).toEqual(["pending", "active", "delinquent", "charged_off"]);
    // rerunning a closed date changes nothing: no second fee, no second charge-off
    await close("2026-05-12");
    const after = (await ok(sys.api("GET", `/api/v1/loans/${loan.id}/transactions?limit=100`, { token: T.analyst }))).items;
    expect(after).toHaveLength(txs.length);
    // a payment after charge-off books as a recovery
    at("2026-06-02");
    const rec = await pay(sys.api, loan.id, "500.00", "2026-06-01");
    expect(rec.transaction.type).toBe("recovery");
  }, 120_000);

  it("a cure payment returns the loan to active the same day; bucket moves are kept", async () => {
    const { product_id } = await makeProduct(sys.api, { fees: [{ fee_type: "late", calculation: "flat", amount: "25.00" }], product: { grace_period_days: 10 } });
    at("2025-01-01");
    const loan = await openLoan(sys.api, { product_id, principal: "12000.00", term_months: 12, annual_rate: "0.12", first_payment_date: "2025-02-01" }, "2025-01-01");
    for (let d = "2025-02-01"; d <= "2025-03-05"; d = next(d)) await close(d);
    const late = await get(loan.id);
    expect(late).toMatchObject({ status: "delinquent" });
    expect(late.position.bucket).toBe("30_59");
    // the business day of 03-06: the borrower pays everything past due (two installments and the fee)
    at("2025-03-06");
    const q = await ok(sys.api("GET", `/api/v1/loans/${loan.id}/payoff?date=2025-03-06`, { token: T.analyst }));
    const pastDue = new Decimal(late.position.past_due_amount).plus(late.position.fees_due);
    expect(pastDue.lt(q.total)).toBe(true);
    const p = await pay(sys.api, loan.id, pastDue.toFixed(2), "2025-03-06");
    expect(p.loan.status).toBe("active");
    expect(p.loan.position.days_past_due).toBe(0);
    expect(p.loan.position.bucket).toBe("current");
    await close("2025-03-06");
    const cured = await get(loan.id);
    expect(cured.status).toBe("active");
    const moves = (await sys.core.call("loans.getLoan", { id: loan.id }, { meta: { user: { role: "admin", token_id: "t" } } })) as any;
    expect(moves.status_history.map((h: any) => h.to)).toEqual(["pending", "active", "delinquent", "active"]);
    const raw: any = decodeLoan(await loans.models.loans.findById(loan.id).lean());
    // The close's moves are off the hot document (loan_bucket_moves), the payment's cure on it.
    const sideMoves: any[] = await loans.models.loan_bucket_moves.find({ loan_id: loan.id }).lean();
    expect(raw.bucket_seq).toBe(2);
    expect(sideMoves.map((m) => m._id).sort()).toEqual([`${loan.id}:b1`, `${loan.id}:b2`]);
    expect(raw.bucket_history.map((b: any) => b.to)).toEqual(["current"]);
    expect(bucketHistoryOf(raw, sideMoves).map((b: any) => `${b.business_date} ${b.from}→${b.to} by ${b.by}`)).toEqual([
      expect.stringMatching(/^2025-02-\d\d current→1_29 by close$/),
      expect.stringMatching(/^2025-03-0\d 1_29→30_59 by close$/),
      "2025-03-06 30_59→current by payment",
    ]);
  }, 120_000);

  it("a same-day prepayment never shows a day past due", async () => {
    const { product_id } = await makeProduct(sys.api, { product: { grace_period_days: 0 } });
    at("2024-01-01");
    const loan = await openLoan(sys.api, { product_id, principal: "6000.00", term_months: 6, annual_rate: "0.10", first_payment_date: "2024-02-01" }, "2024-01-01");
    for (let d = "2024-01-02"; d <= "2024-01-31"; d = next(d)) await close(d);
    at("2024-02-01");
    const p = await pay(sys.api, loan.id, loan.schedule[0].payment, "2024-02-01");
    expect(p.loan.position.days_past_due).toBe(0);
    await close("2024-02-01");
    await close("2024-02-02");
    const l = await get(loan.id);
    expect(l.position).toMatchObject({ days_past_due: 0, bucket: "current" });
    expect(l.status).toBe("active");
  }, 60_000);

  it("a write to a loan behind the last completed close first brings it up to date", async () => {
    const { product_id } = await makeProduct(sys.api, { fees: [{ fee_type: "late", calculation: "flat", amount: "15.00" }], product: { grace_period_days: 5 } });
    // the book is closed through 2024-07-20; then a loan disbursed on 06-01 is booked late
    await close("2024-07-20");
    at("2024-07-21");
    const loan = await openLoan(sys.api, { product_id, principal: "3000.00", term_months: 6, annual_rate: "0.10", first_payment_date: "2024-07-01" }, "2024-06-01");
    const p = await pay(sys.api, loan.id, "10.00", "2024-07-21");
    const txs = (await ok(sys.api("GET", `/api/v1/loans/${loan.id}/transactions`, { token: T.analyst }))).items;
    // the inline close of 07-20 fined the 07-01 installment (late after 5 days) before the payment
    expect(txs.map((t: any) => t.type)).toEqual(["disbursement", "fee", "payment"]);
    expect(txs[1]).toMatchObject({ trade_date: "2024-07-20", amount: "15.00" });
    // the payment settles the oldest item first in allocation order: interest, then fees
    expect(new Decimal(p.transaction.components.interest).plus(p.transaction.components.fees).plus(p.transaction.components.principal).toFixed(2)).toBe("10.00");
    const raw: any = decodeLoan(await loans.models.loans.findById(loan.id).lean());
    expect(raw.closed_through).toBe("2024-07-20");
  }, 60_000);
});

describe("variable-rate resets", () => {
  it("re-amortise at clamp(index + margin, floor, ceiling), hitting the floor and then the ceiling", async () => {
    const index = `VR${Date.now() % 100000}`;
    for (const [d, r] of [["2022-12-01", "0.0300"], ["2023-01-20", "0.0100"], ["2023-02-20", "0.0600"]]) {
      await ok(sys.api("POST", "/api/v1/index-rates", { token: T.admin, body: { index_name: index, rate: r, effective_date: d } }));
    }
    const { product_id } = await makeProduct(sys.api, {
      variable: { index_name: index, margin: "0.0200", floor: "0.0450", ceiling: "0.0700", adjustment_frequency: "monthly" },
      product: { default_interest_rate: "0.0500" },
    });
    at("2023-01-01");
    const loan = await openLoan(sys.api, { product_id, principal: "12000.00", term_months: 12, first_payment_date: "2023-02-01" }, "2023-01-01");
    // priced at disbursement: 0.0300 + 0.0200 = 0.0500, inside [0.0450, 0.0700]
    expect(loan.annual_rate).toBe("0.05");
    for (let d = "2023-01-02"; d <= "2023-03-01"; d = next(d)) {
      if (d === "2023-02-01" || d === "2023-03-01") {
        at(d);
        const row = loan.schedule.find((r: any) => r.due_date === d);
        await pay(sys.api, loan.id, row ? row.payment : "0.01", d);
      }
      await close(d);
    }
    const mods = (await ok(sys.api("GET", `/api/v1/loans/${loan.id}/modifications`, { token: T.analyst }))).items;
    // 02-01: index 0.0100 + 0.0200 = 0.0300 → floor 0.0450; 03-01: 0.0600 + 0.0200 = 0.0800 → ceiling 0.0700
    expect(mods.map((m: any) => [m.effective_date, m.index_value, m.old_rate, m.new_rate])).toEqual([
      ["2023-02-01", "0.01", "0.05", "0.045"],
      ["2023-03-01", "0.06", "0.045", "0.07"],
    ]);
    expect(mods[0]).toMatchObject({ reason: "scheduled variable-rate reset", actor: "close_of_business", index_name: index });
    // re-amortised: the level payment over the 11 periods left at 4.5 % (i = 0.045/12)
    const b = new Decimal(mods[0].remaining_balance);
    const i = new Decimal("0.045").div(12);
    const expected = b.times(i).div(new Decimal(1).minus(i.plus(1).pow(-11))).toDecimalPlaces(2, Decimal.ROUND_HALF_UP).toFixed(2);
    expect(mods[0]).toMatchObject({ remaining_periods: 11, new_payment: expected });
    const l = await get(loan.id);
    expect(l.annual_rate).toBe("0.07");
    const sched = await ok(sys.api("GET", `/api/v1/loans/${loan.id}/schedule`, { token: T.analyst }));
    expect(sched.remaining[0].payment).toBe(mods[1].new_payment);
  }, 120_000);
});
