/**
 * A loan's bucket moves live in two places: those of single-loan writes on the document, those of
 * close-of-business chunks in loan_bucket_moves (counted by the loan's `bucket_seq`). The merged
 * history is in the order the moves happened.
 */
import { bucketHistoryOf } from "../../../services/loans/loan-views";

const move = (business_date: string, to: string, version: number, by = "close") => ({ business_date, to, version, by });

describe("bucketHistoryOf", () => {
  it("merges the document's moves and the close's by business date, then by the version that made each", () => {
    const doc = { bucket_seq: 2, bucket_history: [move("2025-03-06", "current", 12, "payment")] };
    const side = [
      { seq: 2, record: move("2025-03-03", "30_59", 9) },
      { seq: 1, record: move("2025-02-01", "1_29", 5) },
    ];
    expect(bucketHistoryOf(doc, side).map((m) => m.to)).toEqual(["1_29", "30_59", "current"]);
  });

  it("orders a payment's cure and the close's move of the same business date by version", () => {
    const doc = { bucket_seq: 1, bucket_history: [move("2025-03-06", "current", 10, "payment")] };
    const side = [{ seq: 1, record: move("2025-03-06", "1_29", 11) }];
    expect(bucketHistoryOf(doc, side).map((m) => `${m.by}:${m.to}`)).toEqual(["payment:current", "close:1_29"]);
  });

  it("ignores a move past the loan's count (an orphan of a chunk write that lost its race)", () => {
    const doc = { bucket_seq: 1, bucket_history: [] };
    const side = [
      { seq: 1, record: move("2025-02-01", "1_29", 5) },
      { seq: 2, record: move("2025-03-03", "30_59", 9) },
    ];
    expect(bucketHistoryOf(doc, side).map((m) => m.to)).toEqual(["1_29"]);
  });

  it("reads a loan without either", () => {
    expect(bucketHistoryOf({}, [])).toEqual([]);
  });
});
