import Decimal from "decimal.js";
import fc from "fast-check";
import { compileCriteria, criteriaDocument, criteriaErrors, criteriaToMongo, criteriaView, evaluateCriteria, type Criteria, type CriteriaView } from "../../../shared/portfolios/criteria";
import { attributes, position } from "./fixtures";

const loan = (a = {}, s = {}): CriteriaView => criteriaView(attributes(a), position(s));

describe("criteriaErrors", () => {
  it("accepts a valid tree", () => {
    const tree = { all: [{ field: "program_type", op: "eq", value: "installment" }, { any: [{ field: "balance", op: "between", value: ["1000.00", "50000"] }, { field: "vintage", op: "in", value: ["2026-01", "2026-02"] }] }] };
    expect(criteriaErrors(tree)).toEqual([]);
  });

  it("names every unknown field, op and mistyped value by its path in one list", () => {
    const tree = {
      all: [
        { field: "colour", op: "eq", value: "red" },
        { field: "balance", op: "bigger", value: "10" },
        { field: "credit_score", op: "gte", value: "700" },
        { any: [{ field: "origination_date", op: "between", value: ["2026-02-30", "2026-01-01"] }, { field: "region", op: "gt", value: "NY" }] },
        { field: "status", op: "in", value: [] },
        { field: "term_months", op: "eq" },
        { field: "balance", op: "eq", value: 1000, extra: true },
      ],
      note: "x",
    };
    const fields = criteriaErrors(tree).map((e) => e.field);
    expect(fields).toEqual([
      "criteria.note",
      "criteria.all[0].field",
      "criteria.all[1].op",
      "criteria.all[2].value",
      "criteria.all[3].any[0].value[0]",
      "criteria.all[3].any[1].op",
      "criteria.all[4].value",
      "criteria.all[5].value",
      "criteria.all[6].extra",
      "criteria.all[6].value",
    ]);
  });

  it("refuses a non-object, an empty group and a reversed range", () => {
    expect(criteriaErrors("x").map((e) => e.field)).toEqual(["criteria"]);
    expect(criteriaErrors({ all: [] }).map((e) => e.field)).toEqual(["criteria.all"]);
    expect(criteriaErrors({ field: "balance", op: "between", value: ["9", "1"] }).map((e) => e.field)).toEqual(["criteria.value"]);
  });
});

describe("evaluateCriteria", () => {
  const cases: [string, Criteria, CriteriaView, boolean][] = [
    ["eq on an enum", { field: "program_type", op: "eq", value: "installment" }, loan(), true],
    ["ne on a decimal compares values, not strings", { field: "balance", op: "ne", value: "10000" }, loan(), false],
    ["in", { field: "region", op: "in", value: ["CA", "NY"] }, loan(), true],
    ["nin", { field: "region", op: "nin", value: ["CA", "NY"] }, loan(), false],
    ["gt decimal", { field: "balance", op: "gt", value: "9999.99" }, loan(), true],
    ["gte int", { field: "credit_score", op: "gte", value: 721 }, loan(), false],
    ["lt date", { field: "origination_date", op: "lt", value: "2026-02-01" }, loan(), true],
    ["lte month", { field: "vintage", op: "lte", value: "2025-12" }, loan(), false],
    ["between inclusive", { field: "annual_rate", op: "between", value: ["0.05", "0.0899"] }, loan(), true],
    ["null matches ne", { field: "region", op: "ne", value: "NY" }, loan({ region: null }), true],
    ["null never matches eq/gt", { field: "credit_score", op: "gt", value: 1 }, loan({ credit_score: null }), false],
    ["all", { all: [{ field: "status", op: "eq", value: "active" }, { field: "days_past_due", op: "eq", value: 3 }] }, loan({}, { days_past_due: 3 }), true],
    ["any", { any: [{ field: "status", op: "eq", value: "paid_off" }, { field: "bucket", op: "eq", value: "1_29" }] }, loan(), false],
  ];
  it.each(cases)("%s", (_name, tree, view, expected) => {
    expect(criteriaErrors(tree)).toEqual([]);
    expect(evaluateCriteria(tree, view)).toBe(expected);
  });

  it("obeys the laws of its ops on random balances (property)", () => {
    const cents = fc.integer({ min: 0, max: 10_000_000 }).map((c) => new Decimal(c).div(100).toFixed(2));
    fc.assert(
      fc.property(cents, cents, cents, (b, x, y) => {
        const v = loan({}, { principal_balance: b });
        const eq = evaluateCriteria({ field: "balance", op: "eq", value: x }, v);
        expect(evaluateCriteria({ field: "balance", op: "ne", value: x }, v)).toBe(!eq);
        const gt = evaluateCriteria({ field: "balance", op: "gt", value: x }, v);
        const lt = evaluateCriteria({ field: "balance", op: "lt", value: x }, v);
        expect([gt, lt, eq].filter(Boolean)).toHaveLength(1);
        expect(evaluateCriteria({ field: "balance", op: "gte", value: x }, v)).toBe(gt || eq);
        const [lo, hi] = new Decimal(x).lte(y) ? [x, y] : [y, x];
        const between = evaluateCriteria({ field: "balance", op: "between", value: [lo, hi] }, v);
        const both = evaluateCriteria({ all: [{ field: "balance", op: "gte", value: lo }, { field: "balance", op: "lte", value: hi }] }, v);
        expect(between).toBe(both);
        expect(evaluateCriteria({ any: [{ field: "balance", op: "lt", value: lo }, { field: "balance", op: "gt", value: hi }] }, v)).toBe(!between);
      }),
      { numRuns: 500 },
    );
  });

  it("reads stored Decimal128 amounts (the projection's m) exactly like Decimals", () => {
    const cents = fc.integer({ min: 0, max: 10_000_000 }).map((c) => new Decimal(c).div(100).toFixed(2));
    fc.assert(
      fc.property(cents, cents, fc.constantFrom("eq", "ne", "gt", "gte", "lt", "lte" as const), (b, x, op) => {
        const view = loan({}, { principal_balance: b });
        const stored = criteriaDocument(view) as CriteriaView;
        const tree: Criteria = { field: "balance", op, value: x };
        expect(evaluateCriteria(tree, stored)).toBe(evaluateCriteria(tree, view));
      }),
      { numRuns: 300 },
    );
  });

  it("compiles once and evaluates like evaluateCriteria", () => {
    const tree: Criteria = { all: [{ field: "principal", op: "gte", value: "5000" }, { field: "term_months", op: "in", value: [36, 48] }] };
    const f = compileCriteria(tree);
    for (const principal of ["4999.99", "5000.00", "7000"]) expect(f(loan({ principal }))).toBe(evaluateCriteria(tree, loan({ principal })));
  });
});

describe("criteriaToMongo", () => {
  it("maps ops onto the projection's m fields, decimals as Decimal128", () => {
    const q = criteriaToMongo({ all: [{ field: "balance", op: "between", value: ["1", "2.5"] }, { any: [{ field: "region", op: "nin", value: ["CA"] }] }] }) as any;
    expect(Object.keys(q.$and[0])).toEqual(["m.balance"]);
    expect(q.$and[0]["m.balance"].$gte.toString()).toBe("1");
    expect(q.$and[0]["m.balance"].$lte.toString()).toBe("2.5");
    expect(q.$and[1]).toEqual({ $or: [{ "m.region": { $nin: ["CA"] } }] });
  });
});
