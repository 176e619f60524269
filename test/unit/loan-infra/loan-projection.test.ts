import { applyLoanEvent, loanPicturesOf, type ProjectedLoan } from "../../support/loan-infra/loan-projection";

const picture = (version: number, balance: string) => ({
  _id: "L1",
  version,
  attributes: { loan_id: "L1" } as any,
  state: { principal_balance: balance } as any,
});

describe("the loan projection a consumer keeps", () => {
  it("takes a first picture, then only newer versions", () => {
    const v3 = applyLoanEvent(null, picture(3, "90.00"), { id: "e3", subject: "loan.transaction.booked" })!;
    expect(v3).toMatchObject({ _id: "L1", version: 3, state: { principal_balance: "90.00" }, event_id: "e3" });
    const v5 = applyLoanEvent(v3, picture(5, "70.00"), { id: "e5", subject: "loan.transaction.booked" })!;
    expect(v5.version).toBe(5);
    // Late and redelivered events change nothing.
    expect(applyLoanEvent(v5, picture(4, "80.00"), { id: "e4", subject: "loan.transaction.booked" })).toBeNull();
    expect(applyLoanEvent(v5, picture(5, "70.00"), { id: "e5b", subject: "loan.status.changed" })).toBeNull();
  });

  it("reads one picture from a loan event and one per loan from a close batch", () => {
    const base = { event_id: "x", loan_id: "L1", version: 2, occurred_at: "", attributes: {}, state: { status: "active" }, actor: null };
    expect(loanPicturesOf("loan.created", base)).toEqual([{ _id: "L1", version: 2, attributes: {}, state: { status: "active" } }]);
    const batch = { event_id: "b", business_date: "2026-01-01", partition: 0, chunk: 0, occurred_at: "", loans: [{ loan_id: "A", version: 4, attributes: {}, state: {} }, { loan_id: "B", version: 9, attributes: {}, state: {} }] };
    expect(loanPicturesOf("loan.close.batch", batch).map((p: Partial<ProjectedLoan>) => [p._id, p.version])).toEqual([["A", 4], ["B", 9]]);
    expect(loanPicturesOf("loan.created", { nothing: true })).toEqual([]);
  });
});
