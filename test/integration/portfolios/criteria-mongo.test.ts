/**
 * The criteria's MongoDB translation agrees with the evaluator: random loans stored as the
 * portfolios' projection stores them (criteriaDocument), random valid rule trees, and for each
 * tree the set of loans `find(criteriaToMongo(tree))` returns equals the set evaluateCriteria
 * accepts — on the same wire server the daily run uses.
 */
import fc from "fast-check";
import { MongoClient, type Collection } from "mongodb";
import { startTestMongo, uniqueDbUrl, type RunningMongo } from "../../support/mongo";
import { CRITERIA_PATH, criteriaDocument, criteriaErrors, criteriaToMongo, criteriaView, evaluateCriteria, type Criteria } from "../../../shared/portfolios/criteria";
import { attributes, position } from "../../unit/portfolios/fixtures";

let mongo: RunningMongo;
let client: MongoClient;
let loans: Collection<any>;
const views: { id: string; view: ReturnType<typeof criteriaView> }[] = [];

const REGIONS = ["NY", "CA", "TX"];
const loanArb = fc.record({
  region: fc.option(fc.constantFrom(...REGIONS), { nil: null }),
  credit_score: fc.option(fc.integer({ min: 500, max: 850 }), { nil: null }),
  principal: fc.integer({ min: 100, max: 5_000_000 }).map((c) => (c / 100).toFixed(2)),
  balance: fc.integer({ min: 0, max: 5_000_000 }).map((c) => (c / 100).toFixed(2)),
  annual_rate: fc.integer({ min: 0, max: 3000 }).map((b) => (b / 10000).toFixed(4)),
  month: fc.integer({ min: 1, max: 12 }),
  day: fc.integer({ min: 1, max: 28 }),
  program_type: fc.constantFrom("installment", "lease", "line_of_credit" as const),
  status: fc.constantFrom("active", "delinquent", "paid_off" as const),
  days_past_due: fc.integer({ min: 0, max: 200 }),
});

const dec = fc.integer({ min: 0, max: 5_000_000 }).map((c) => (c / 100).toFixed(2));
const date = fc.tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 28 })).map(([m, d]) => `2026-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`);
const leaf: fc.Arbitrary<Criteria> = fc.oneof(
  fc.record({ field: fc.constant("balance" as const), op: fc.constantFrom("eq", "ne", "gt", "gte", "lt", "lte" as const), value: dec }),
  fc.tuple(dec, dec).map(([a, b]) => ({ field: "principal" as const, op: "between" as const, value: Number(a) <= Number(b) ? [a, b] : [b, a] })),
  fc.record({ field: fc.constant("credit_score" as const), op: fc.constantFrom("gt", "lte", "eq", "ne" as const), value: fc.integer({ min: 500, max: 850 }) }),
  fc.record({ field: fc.constant("region" as const), op: fc.constantFrom("in", "nin" as const), value: fc.subarray(REGIONS, { minLength: 1 }) }),
  fc.record({ field: fc.constant("region" as const), op: fc.constantFrom("eq", "ne" as const), value: fc.constantFrom(...REGIONS) }),
  fc.record({ field: fc.constant("origination_date" as const), op: fc.constantFrom("gte", "lt" as const), value: date }),
  fc.record({ field: fc.constant("vintage" as const), op: fc.constantFrom("eq", "lte" as const), value: fc.integer({ min: 1, max: 12 }).map((m) => `2026-${String(m).padStart(2, "0")}`) }),
  fc.record({ field: fc.constant("status" as const), op: fc.constantFrom("in", "nin" as const), value: fc.subarray(["active", "delinquent", "paid_off"], { minLength: 1 }) }),
  fc.record({ field: fc.constant("annual_rate" as const), op: fc.constantFrom("gte", "lt" as const), value: fc.integer({ min: 0, max: 3000 }).map((b) => (b / 10000).toFixed(4)) }),
) as fc.Arbitrary<Criteria>;
const tree: fc.Arbitrary<Criteria> = fc.letrec<{ node: Criteria }>((tie) => ({
  node: fc.oneof(
    { depthSize: "small", maxDepth: 4, withCrossShrink: true },
    leaf,
    fc.array(tie("node"), { minLength: 1, maxLength: 3 }).map((all) => ({ all })),
    fc.array(tie("node"), { minLength: 1, maxLength: 3 }).map((any) => ({ any })),
  ),
})).node;

beforeAll(async () => {
  mongo = await startTestMongo();
  client = new MongoClient(uniqueDbUrl(mongo.url, "criteria"));
  await client.connect();
  loans = client.db().collection("portfolio_loans");
  const sample = fc.sample(loanArb, { numRuns: 300, seed: 7 });
  const docs = sample.map((l, i) => {
    const vintage = `2026-${String(l.month).padStart(2, "0")}`;
    const view = criteriaView(
      attributes({ loan_id: `L${i}`, region: l.region, credit_score: l.credit_score, principal: l.principal, annual_rate: l.annual_rate, program_type: l.program_type, vintage, origination_date: `${vintage}-${String(l.day).padStart(2, "0")}` }),
      position({ principal_balance: l.balance, status: l.status, days_past_due: l.days_past_due }),
    );
    views.push({ id: `L${i}`, view });
    return { _id: `L${i}`, [CRITERIA_PATH]: criteriaDocument(view) };
  });
  await loans.insertMany(docs as any[]);
});

afterAll(async () => {
  await client?.close();
  await mongo?.stop();
});

it("find(criteriaToMongo(tree)) returns exactly the loans evaluateCriteria accepts", async () => {
  await fc.assert(
    fc.asyncProperty(tree, async (t) => {
      expect(criteriaErrors(t)).toEqual([]);
      const fromMongo = (await loans.find(criteriaToMongo(t), { projection: { _id: 1 } }).toArray()).map((d) => d._id).sort();
      const fromEvaluator = views.filter((v) => evaluateCriteria(t, v.view)).map((v) => v.id).sort();
      expect(fromMongo).toEqual(fromEvaluator);
    }),
    { numRuns: 120 },
  );
});
