/**
 * Issue 4 through the gateway: a gateway node and a programs+rates node, separate brokers
 * connected by a real nats-server, on the MongoDB wire server.
 */
import type { ServiceBroker } from "moleculer";
import { startNats, type RunningNats } from "../support/nats";
import { startTestMongo, uniqueDbUrl } from "../support/mongo";
import type { RunningMongo } from "../../shared/runtime/mongo-server";
import { apiClient, eventually, gatewayUrl, startNode, TEST_TOKENS as T, waitForRoutes } from "../support/system";

let nats: RunningNats;
let mongo: RunningMongo;
let gw: ServiceBroker;
let cfg: ServiceBroker;
let api: ReturnType<typeof apiClient>;
const seen: { event: string; payload: any }[] = [];

const program = {
  name: "Consumer Installment",
  program_type: "installment",
  day_count_convention: "actual_365",
  accrual_method: "simple",
  payment_allocation_order: ["interest", "fees", "principal"],
};

beforeAll(async () => {
  [nats, mongo] = await Promise.all([startNats(), startTestMongo()]);
  const mongoUrl = uniqueDbUrl(mongo.url, "programs_rates");
  cfg = await startNode({ nodeID: "cfg", services: ["programs", "rates"], mongoUrl, natsUrl: nats.url });
  gw = await startNode({
    nodeID: "gw",
    services: ["gateway"],
    mongoUrl,
    natsUrl: nats.url,
    extraServices: [
      {
        name: "listener",
        events: {
          "program.*"(ctx: any) { seen.push({ event: ctx.eventName, payload: ctx.params }); },
          "product.*"(ctx: any) { seen.push({ event: ctx.eventName, payload: ctx.params }); },
          "index_rate.published"(ctx: any) { seen.push({ event: ctx.eventName, payload: ctx.params }); },
        },
      },
    ],
  });
  await gw.waitForServices(["programs", "rates"], 15_000);
  await waitForRoutes(gw, ["POST /api/v1/programs", "GET /api/v1/index-rates/:index_name/on/:date"]);
  // Events emitted in the first moments after discovery can be lost: wait until cfg sees the listener.
  await eventually(() => cfg.registry.getServiceList({ onlyAvailable: true }).some((s: any) => s.name === "listener"));
  api = apiClient(gatewayUrl(gw));
});

afterAll(async () => {
  await gw?.stop();
  await cfg?.stop();
  await nats?.stop();
  await mongo?.stop();
});

const count = async (path: string) => (await api("GET", path, { token: T.admin })).body.total;

describe("programs", () => {
  let id: string;

  it("creates a program (201) and announces it", async () => {
    const res = await api("POST", "/api/v1/programs", { token: T.admin, body: program });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ ...program, is_active: true, version: 1 });
    id = res.body.id;
    // The 201 names what it created, and that address reads it back.
    expect(res.headers.get("location")).toBe(`/api/v1/programs/${id}`);
    expect((await api("GET", res.headers.get("location")!, { token: T.admin })).body.id).toBe(id);
    await eventually(() => seen.some((e) => e.event === "program.created" && e.payload.id === id));
  });

  it("refuses an invalid program naming every bad field, and writes nothing", async () => {
    const before = await count("/api/v1/programs");
    const res = await api("POST", "/api/v1/programs", {
      token: T.admin,
      body: { ...program, name: "Bad", program_type: "mortgage", accrual_method: 7, payment_allocation_order: ["interest", "interest", "principal"], margin: "abc", floor: "0.09", ceiling: "0.05", program_config: { residual_percent: "0.2" } },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.type).toBe("VALIDATION_ERROR");
    const names = res.body.error.data.fields.map((f: any) => f.field);
    expect(names).toEqual(expect.arrayContaining(["program_type", "accrual_method", "payment_allocation_order", "margin", "ceiling", "index_name", "adjustment_frequency"]));
    expect(await count("/api/v1/programs")).toBe(before);
  });

  it("rejects a malformed JSON body with 400", async () => {
    const res = await api("POST", "/api/v1/programs", { token: T.admin, body: "{not json" });
    expect(res.status).toBe(400);
  });

  it("refuses a duplicate name with 409", async () => {
    const res = await api("POST", "/api/v1/programs", { token: T.admin, body: program });
    expect(res.status).toBe(409);
  });

  it("lists with filters and pagination", async () => {
    for (const [name, type] of [["Equipment Lease", "lease"], ["Revolver", "line_of_credit"], ["Auto Installment", "installment"]]) {
      const res = await api("POST", "/api/v1/programs", { token: T.admin, body: { ...program, name, program_type: type } });
      expect(res.status).toBe(201);
    }
    const installments = await api("GET", "/api/v1/programs?program_type=installment", { token: T.analyst });
    expect(installments.status).toBe(200);
    expect(installments.body.items.map((p: any) => p.name)).toEqual(["Auto Installment", "Consumer Installment"]);
    const page1 = await api("GET", "/api/v1/programs?limit=2&offset=0", { token: T.analyst });
    const page2 = await api("GET", "/api/v1/programs?limit=2&offset=2", { token: T.analyst });
    expect(page1.body.total).toBe(4);
    expect([...page1.body.items, ...page2.body.items].map((p: any) => p.name)).toEqual(["Auto Installment", "Consumer Installment", "Equipment Lease", "Revolver"]);
    expect((await api("GET", "/api/v1/programs?limit=0", { token: T.analyst })).status).toBe(400);
  });

  it("gets by id, 404 for an unknown id", async () => {
    expect((await api("GET", `/api/v1/programs/${id}`, { token: T.servicer })).body.name).toBe(program.name);
    const missing = await api("GET", "/api/v1/programs/0123456789abcdef01234567", { token: T.admin });
    expect(missing.status).toBe(404);
    expect(missing.body.error.type).toBe("NOT_FOUND");
  });

  it("patches with the version guard and re-checks the merged program", async () => {
    const ok = await api("PATCH", `/api/v1/programs/${id}`, { token: T.admin, body: { index_name: "SOFR", margin: "0.0250", floor: "0.04", ceiling: "0.18", adjustment_frequency: "monthly", version: 1 } });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ index_name: "SOFR", margin: "0.0250", version: 2 });
    const stale = await api("PATCH", `/api/v1/programs/${id}`, { token: T.admin, body: { description: "x", version: 1 } });
    expect(stale.status).toBe(409);
    const bad = await api("PATCH", `/api/v1/programs/${id}`, { token: T.admin, body: { floor: "0.20", version: 2 } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.data.fields.map((f: any) => f.field)).toEqual(["ceiling"]);
    const immutable = await api("PATCH", `/api/v1/programs/${id}`, { token: T.admin, body: { program_type: "lease", created_at: "2020-01-01", description: "y", version: 2 } });
    expect(immutable.status).toBe(400);
    expect(immutable.body.error.data.fields.map((f: any) => f.field).sort()).toEqual(["created_at", "program_type"]);
    expect((await api("GET", `/api/v1/programs/${id}`, { token: T.admin })).body).toMatchObject({ program_type: "installment", version: 2 });
    await eventually(() => seen.some((e) => e.event === "program.updated" && e.payload.id === id));
  });

  it("enforces roles: analyst and servicer cannot write, investor cannot read programs, no token is 401", async () => {
    expect((await api("POST", "/api/v1/programs", { token: T.analyst, body: program })).status).toBe(403);
    expect((await api("PATCH", `/api/v1/programs/${id}`, { token: T.servicer, body: { description: "x" } })).status).toBe(403);
    expect((await api("GET", "/api/v1/programs", { token: T.investor })).status).toBe(403);
    expect((await api("GET", "/api/v1/programs")).status).toBe(401);
    expect((await api("GET", "/api/v1/programs", { token: "nope" })).status).toBe(401);
  });
});

describe("products, fee schedules, promotions", () => {
  let programId: string;
  let productId: string;

  beforeAll(async () => {
    const res = await api("POST", "/api/v1/programs", {
      token: T.admin,
      body: { ...program, name: "Personal Loans", index_name: "Prime", margin: "0.03", floor: "0.05", ceiling: "0.30", adjustment_frequency: "quarterly", program_config: { interest_only_months: 0 } },
    });
    programId = res.body.id;
  });

  it("creates a product and resolves its effective configuration", async () => {
    const res = await api("POST", "/api/v1/products", {
      token: T.admin,
      body: { name: "36-Month Fixed Personal Loan", program_id: programId, interest_rate_type: "fixed", default_interest_rate: "0.1299", min_term_months: 12, max_term_months: 36, min_loan_amount: "1000", max_loan_amount: "35000.5", grace_period_days: 10, program_config: { interest_only_months: 3 } },
    });
    expect(res.status).toBe(201);
    expect(res.body.min_loan_amount).toBe("1000.00");
    expect(res.body.max_loan_amount).toBe("35000.50");
    productId = res.body.id;
    const eff = await api("GET", `/api/v1/products/${productId}/effective-config`, { token: T.servicer });
    expect(eff.body).toMatchObject({ program_type: "installment", day_count_convention: "actual_365", program_config: { interest_only_months: 3 }, originations_allowed: true, variable_rate: { index_name: "Prime", margin: "0.03" } });
  });

  it("refuses a product naming every bad field: ranges, config keys of another type, unknown program", async () => {
    const res = await api("POST", "/api/v1/products", {
      token: T.admin,
      body: { name: "Bad", program_id: programId, interest_rate_type: "fixed", default_interest_rate: "0.40", min_term_months: 48, max_term_months: 12, min_loan_amount: "5000.00", max_loan_amount: "100.00", grace_period_days: 10, program_config: { credit_limit: "100.00" } },
    });
    expect(res.status).toBe(400);
    const names = res.body.error.data.fields.map((f: any) => f.field).sort();
    expect(names).toEqual(["max_loan_amount", "max_term_months"]);
    const second = await api("POST", "/api/v1/products", {
      token: T.admin,
      body: { name: "Bad2", program_id: programId, interest_rate_type: "fixed", default_interest_rate: "0.40", min_term_months: 12, max_term_months: 48, min_loan_amount: "100.00", max_loan_amount: "5000.00", grace_period_days: 10, program_config: { credit_limit: "100.00" } },
    });
    expect(second.status).toBe(400);
    expect(second.body.error.data.fields.map((f: any) => f.field).sort()).toEqual(["default_interest_rate", "program_config.credit_limit"]);
    const orphan = await api("POST", "/api/v1/products", {
      token: T.admin,
      body: { name: "Orphan", program_id: "0123456789abcdef01234567", interest_rate_type: "fixed", default_interest_rate: "0.10", min_term_months: 12, max_term_months: 48, min_loan_amount: "100.00", max_loan_amount: "5000.00", grace_period_days: 10 },
    });
    expect(orphan.status).toBe(400);
    expect(orphan.body.error.data.fields[0].field).toBe("program_id");
  });

  it("deactivating the program stops new loans and changes nothing else", async () => {
    const before = (await api("GET", `/api/v1/products/${productId}`, { token: T.admin })).body;
    const res = await api("POST", `/api/v1/programs/${programId}/deactivate`, { token: T.admin });
    expect(res.status).toBe(200);
    expect(res.body.is_active).toBe(false);
    await eventually(() => seen.some((e) => e.event === "program.deactivated" && e.payload.id === programId));
    const eff = await api("GET", `/api/v1/products/${productId}/effective-config`, { token: T.admin });
    expect(eff.body.originations_allowed).toBe(false);
    expect(eff.body.blocked_reasons).toEqual([`program ${programId} is inactive`]);
    expect((await api("GET", `/api/v1/products/${productId}`, { token: T.admin })).body).toEqual(before);
    const listed = await api("GET", "/api/v1/programs?is_active=false", { token: T.admin });
    expect(listed.body.items.map((p: any) => p.id)).toEqual([programId]);
    await api("POST", `/api/v1/programs/${programId}/activate`, { token: T.admin });
  });

  it("creates, validates and patches a fee schedule", async () => {
    const bad = await api("POST", "/api/v1/fee-schedules", {
      token: T.admin,
      body: { name: "Standard", product_id: productId, fees: [{ fee_type: "late", calculation: "percent", percent: "0.05", min_amount: "40.00", max_amount: "25.00" }, { fee_type: "wire", calculation: "flat" }] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.data.fields.map((f: any) => f.field).sort()).toEqual(["fees[0].max_amount", "fees[0].percent_basis", "fees[1].amount", "fees[1].fee_type"]);
    const res = await api("POST", "/api/v1/fee-schedules", {
      token: T.admin,
      body: { name: "Standard", product_id: productId, fees: [{ fee_type: "origination", calculation: "percent", percent: "0.02", percent_basis: "principal", max_amount: "500" }, { fee_type: "late", calculation: "flat", amount: "25" }, { fee_type: "nsf", calculation: "flat", amount: "30.00" }] },
    });
    expect(res.status).toBe(201);
    expect(res.body.fees[0]).toMatchObject({ fee_type: "origination", percent: "0.02", max_amount: "500.00" });
    const patched = await api("PATCH", `/api/v1/fee-schedules/${res.body.id}`, { token: T.admin, body: { fees: [{ fee_type: "late", calculation: "flat", amount: "35.00" }], version: 1 } });
    expect(patched.status).toBe(200);
    expect(patched.body.fees).toEqual([{ fee_type: "late", calculation: "flat", amount: "35.00" }]);
    const eff = await api("GET", `/api/v1/products/${productId}/effective-config`, { token: T.admin });
    expect(eff.body.fees).toEqual([{ fee_type: "late", calculation: "flat", amount: "35.00" }]);
    expect((await api("GET", `/api/v1/fee-schedules?product_id=${productId}`, { token: T.analyst })).body.total).toBe(1);
  });

  it("creates, filters and validates promotions", async () => {
    const bad = await api("POST", "/api/v1/promotions", {
      token: T.admin,
      body: { name: "Spring", program_id: programId, promo_type: "reduced_apr", start_date: "2026-05-01", end_date: "2026-02-30" },
    });
    expect(bad.status).toBe(400);
    // end_date is both not a calendar date and before start_date.
    expect([...new Set(bad.body.error.data.fields.map((f: any) => f.field))].sort()).toEqual(["apr", "end_date"]);
    const res = await api("POST", "/api/v1/promotions", {
      token: T.admin,
      body: { name: "12 months same as cash", program_id: programId, promo_type: "deferred_interest", start_date: "2026-01-01", end_date: "2026-12-31", deferred_interest_rate: "0.2499", min_payment_type: "percent_of_balance", min_payment_amount: "0.03" },
    });
    expect(res.status).toBe(201);
    const active = await api("GET", `/api/v1/promotions?program_id=${programId}&active_on=2026-06-15`, { token: T.analyst });
    expect(active.body.items.map((p: any) => p.id)).toEqual([res.body.id]);
    const none = await api("GET", `/api/v1/promotions?program_id=${programId}&active_on=2027-01-01`, { token: T.analyst });
    expect(none.body.total).toBe(0);
    const patched = await api("PATCH", `/api/v1/promotions/${res.body.id}`, { token: T.admin, body: { end_date: "2025-06-01", version: 1 } });
    expect(patched.status).toBe(400);
    expect(patched.body.error.data.fields[0].field).toBe("end_date");
  });
});

describe("index rates", () => {
  it("stores rates with a computed trailing-12-month average and answers the rate on a date", async () => {
    for (const [date, rate] of [["2025-01-01", "0.05"], ["2025-07-01", "0.06"]]) {
      const res = await api("POST", "/api/v1/index-rates", { token: T.admin, body: { index_name: "SOFR", rate, effective_date: date } });
      expect(res.status).toBe(201);
    }
    // A later observation on 2025-12-31 stands one day: (0.05·181 + 0.06·183 + 0.07·1) / 365 = 20.10/365.
    const last = await api("POST", "/api/v1/index-rates", { token: T.admin, body: { index_name: "SOFR", rate: "0.07", effective_date: "2025-12-31" } });
    expect(last.body.trailing_12_month_average).toBe("0.05506849");
    await eventually(() => seen.some((e) => e.event === "index_rate.published" && e.payload.rate.id === last.body.id));

    const on = await api("GET", "/api/v1/index-rates/SOFR/on/2025-09-30", { token: T.analyst });
    expect(on.body).toMatchObject({ rate: "0.06", effective_date: "2025-07-01", as_of: "2025-09-30" });
    const before = await api("GET", "/api/v1/index-rates/SOFR/on/2024-12-31", { token: T.analyst });
    expect(before.status).toBe(404);
    const latest = await api("GET", "/api/v1/index-rates/SOFR/latest?as_of=2026-01-15", { token: T.analyst });
    expect(latest.body.rate).toBe("0.07");
  });

  it("recomputes later averages when an earlier rate is inserted or corrected", async () => {
    // Insert 2025-04-01 at 0.055: the 2025-07-01 and 2025-12-31 averages change.
    const mid = await api("POST", "/api/v1/index-rates", { token: T.admin, body: { index_name: "SOFR", rate: "0.055", effective_date: "2025-04-01" } });
    expect(mid.status).toBe(201);
    const history = await api("GET", "/api/v1/index-rates?index_name=SOFR&from=2025-07-01&to=2025-12-31", { token: T.analyst });
    // 2025-12-31: Jan1–Mar31 90 d at 5 %, Apr1–Jun30 91 d at 5.5 %, Jul1–Dec30 183 d at 6 %, 1 d at 7 %.
    // (4.5 + 5.005 + 10.98 + 0.07) / 365 = 20.555 / 365 = 0.0563150684… → 0.05631507
    expect(history.body.items.map((r: any) => [r.effective_date, r.trailing_12_month_average])).toEqual([
      ["2025-07-01", expect.any(String)],
      ["2025-12-31", "0.05631507"],
    ]);
    const corrected = await api("PATCH", `/api/v1/index-rates/${mid.body.id}`, { token: T.admin, body: { rate: "0.05", version: mid.body.version } });
    expect(corrected.status).toBe(200);
    const after = await api("GET", "/api/v1/index-rates?index_name=SOFR&from=2025-12-31", { token: T.analyst });
    expect(after.body.items[0].trailing_12_month_average).toBe("0.05506849");
  });

  it("validates rates and ranges and refuses a second rate for the same day", async () => {
    const bad = await api("POST", "/api/v1/index-rates", { token: T.admin, body: { index_name: "", rate: "-1", effective_date: "2025-13-01" } });
    expect(bad.status).toBe(400);
    expect([...new Set(bad.body.error.data.fields.map((f: any) => f.field))].sort()).toEqual(["effective_date", "index_name", "rate"]);
    const dup = await api("POST", "/api/v1/index-rates", { token: T.admin, body: { index_name: "SOFR", rate: "0.05", effective_date: "2025-01-01" } });
    expect(dup.status).toBe(409);
    const range = await api("GET", "/api/v1/index-rates?from=2025-12-01&to=2025-01-01", { token: T.analyst });
    expect(range.status).toBe(400);
    expect((await api("POST", "/api/v1/index-rates", { token: T.analyst, body: { index_name: "SOFR", rate: "0.05", effective_date: "2026-01-01" } })).status).toBe(403);
  });
});

describe("OpenAPI", () => {
  it("lists the routes with their request schemas", async () => {
    const res = await api("GET", "/api/openapi.json");
    expect(res.status).toBe(200);
    const paths = res.body.paths;
    for (const p of ["/api/v1/programs", "/api/v1/programs/{id}", "/api/v1/products", "/api/v1/fee-schedules", "/api/v1/promotions", "/api/v1/index-rates", "/api/v1/index-rates/{index_name}/latest"]) {
      expect(paths[p]).toBeDefined();
    }
    expect(Object.keys(paths["/api/v1/programs/{id}"])).toEqual(expect.arrayContaining(["get", "patch"]));
    const schema = paths["/api/v1/programs"].post.requestBody.content["application/json"].schema;
    expect(schema.required).toEqual(expect.arrayContaining(["name", "program_type", "payment_allocation_order"]));
    expect(schema.properties.day_count_convention.enum).toEqual(["actual_360", "actual_365", "30_360", "actual_actual"]);
  });
});
