import { decodeLoan, encodeLoanFields, LOAN_TEXT_FIELDS } from "../../../services/loans/stored-loan";

const loan = () => ({
  _id: "l1",
  status: "active",
  config: { grace_period_days: 10, fees: [{ fee_type: "late", amount: "25.00" }] },
  state: { principal_balance: "100.00", due: [] },
  status_history: [{ from: null, to: "pending" }],
  bucket_history: [],
  borrower: null,
  position: { bucket: "current", principal_balance: "100.00" },
  version: 3,
});

describe("stored loan fields", () => {
  test("the nested, never-queried fields are stored as JSON text and read back equal", () => {
    const stored = encodeLoanFields(loan());
    for (const k of ["config", "state", "status_history", "bucket_history"] as const) expect(typeof stored[k]).toBe("string");
    // queried or path-updated fields stay BSON; null stays null (not the text "null")
    expect(stored.position).toEqual(loan().position);
    expect(stored.borrower).toBeNull();
    expect(stored.status).toBe("active");
    expect(decodeLoan({ ...stored })).toEqual(loan());
  });

  test("encoding copies: the caller's object is left as it was", () => {
    const l = loan();
    encodeLoanFields(l);
    expect(l).toEqual(loan());
  });

  test("a partial $set encodes only what it has, and a set without text fields is passed through", () => {
    expect(encodeLoanFields({ state: { a: 1 }, version: 4 })).toEqual({ state: '{"a":1}', version: 4 });
    const plain = { version: 4, pending: null };
    expect(encodeLoanFields(plain)).toBe(plain);
  });

  test("a document stored nested (before this format) reads the same; text is never parsed twice", () => {
    expect(decodeLoan(loan())).toEqual(loan());
    const twice = decodeLoan(decodeLoan(encodeLoanFields(loan())));
    expect(twice).toEqual(loan());
    expect(decodeLoan(null)).toBeNull();
  });

  test("the text fields are exactly the ones no query or path update names", () => {
    expect([...LOAN_TEXT_FIELDS].sort()).toEqual(["borrower", "bucket_history", "config", "promotions", "request", "state", "status_history", "terms"]);
  });
});
