/**
 * Issue 7: hostile input against the embedded start (bin/start.ts as a real process, as the
 * attacker found it). No request may crash or wedge the process, reach the database as an
 * operator, or answer 5xx. Routes are discovered from the running system's OpenAPI document, so
 * every route a service adds later is probed too, without this file naming it.
 */
import { request as httpRequest } from "node:http";
import { apiClient, eventually, TEST_AUTH_TOKENS, TEST_TOKENS as T } from "../support/http";
import { freePort, startSystemProcess, type StartedProcess } from "../support/processes";

let system: StartedProcess;
let base: string;
let api: ReturnType<typeof apiClient>;
let doc: any;

interface Route {
  method: string;
  /** OpenAPI path, e.g. /api/v1/programs/{id} */
  path: string;
  op: any;
}
let routes: Route[];

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  system = await startSystemProcess({ PORT: String(port), SEED_DEMO: "true", AUTH_TOKENS: TEST_AUTH_TOKENS, SCHEDULER_CLOCK: "off" });
  api = apiClient(base);
  await eventually(async () => (await api("GET", "/ready")).status === 200, 30_000);
  // "data intact" compares before and after: let the demo book (seeded after start-up) finish first
  await eventually(() => /demo book/.test(system.output()), 240_000, 200);
  doc = (await api("GET", "/api/openapi.json")).body;
  routes = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path, op })),
  );
}, 300_000);

afterAll(async () => {
  if (system && system.child.exitCode === null) system.child.kill("SIGKILL");
});

/** A concrete URL for a documented path: path parameters filled with a well-formed id or name. */
function urlOf(route: Route): string {
  return route.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const schema = route.op.parameters?.find((p: any) => p.name === name)?.schema ?? {};
    if (schema.pattern?.includes("a-f0-9")) return "0123456789abcdef01234567";
    if (schema.format === "date") return "2026-01-15";
    if (schema.enum) return schema.enum[0];
    return "SOFR";
  });
}

const apiRoutes = () => routes.filter((r) => r.path.startsWith("/api/v1/"));
/** List actions: GET without path parameters, paged. */
const listRoutes = () => apiRoutes().filter((r) => r.method === "GET" && !r.path.includes("{") && r.op.parameters?.some((p: any) => p.name === "limit"));

/** Any method with any body (fetch refuses a body on GET), over node:http. */
function raw(method: string, url: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<{ status: number; text: string; json(): any }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(base + url, { method, headers: { Authorization: `Bearer ${T.admin}`, "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({ status: res.statusCode ?? 0, text, json: () => JSON.parse(text) });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

async function snapshotOfData() {
  const out: Record<string, unknown> = {};
  for (const r of listRoutes()) out[r.path] = (await api("GET", `${r.path}?limit=500`, { token: T.admin })).body;
  return out;
}

const deep = (levels: number) => `{"index_name":${'{"a":'.repeat(levels)}1${"}".repeat(levels)}}`;
const fieldsOf = (res: { body: any }) => (res.body.error?.data?.fields ?? []).map((f: any) => f.field);

describe("no request stops or wedges the process", () => {
  it("discovers the routes from the running system", () => {
    expect(listRoutes().map((r) => r.path)).toEqual(expect.arrayContaining(["/api/v1/programs", "/api/v1/products", "/api/v1/fee-schedules", "/api/v1/promotions", "/api/v1/index-rates", "/api/v1/scheduler/ticks"]));
    expect(apiRoutes().length).toBeGreaterThanOrEqual(25);
  });

  it("answers 100,000-level nesting with 400 and 10 MB bodies with 413 on every route, then is ready with its data intact", async () => {
    const before = await snapshotOfData();
    const nested = deep(100_000);
    const big = Buffer.alloc(10 * 1024 * 1024, "a");
    const bigJson = Buffer.concat([Buffer.from('{"name":"'), big, Buffer.from('"}')]);
    const unexpected: string[] = [];
    for (const route of apiRoutes()) {
      const url = urlOf(route);
      const a = await raw(route.method, url, nested);
      if (a.status !== 400 || a.text.length > 2000) unexpected.push(`${route.method} ${url} nested → ${a.status} (${a.text.length} bytes)`);
      const b = await raw(route.method, url, bigJson);
      if (b.status !== 413) unexpected.push(`${route.method} ${url} 10 MB → ${b.status}`);
    }
    expect(unexpected).toEqual([]);
    expect(system.child.exitCode).toBeNull();
    expect((await api("GET", "/ready")).status).toBe(200);
    expect(await snapshotOfData()).toEqual(before);
  }, 120_000);

  it("answers 413 at once, without reading it, for a body declared far larger than it drains", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${base}/api/v1/programs`, { method: "POST", headers: { Authorization: `Bearer ${T.admin}`, "Content-Type": "application/json", "Content-Length": 500_000_000 } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on("error", (err) => (String(err).includes("socket hang up") ? undefined : reject(err)));
      req.write('{"name":"');
    });
    expect(status).toBe(413);
    expect((await api("GET", "/ready")).status).toBe(200);
  });

  it("echoes at most a short preview of a bad value", async () => {
    const res = await api("POST", "/api/v1/index-rates", { token: T.admin, body: { index_name: "SOFR", rate: "9".repeat(100_000), effective_date: "2026-01-01", source: { a: { b: { c: 1 } } } } });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body).length).toBeLessThan(2000);
    expect(fieldsOf(res)).toEqual(expect.arrayContaining(["rate", "source"]));
  });

  it("refuses the crash examples of the issue (analyst token) with 400", async () => {
    const body = deep(5_000);
    for (const [method, url] of [["GET", "/api/v1/index-rates"], ["POST", "/api/v1/index-rates"], ["POST", "/api/v1/programs"], ["POST", "/api/v1/fee-schedules"], ["PATCH", "/api/v1/programs/0123456789abcdef01234567"]]) {
      const res = await raw(method, url, body, { Authorization: `Bearer ${T.analyst}` });
      expect([method, url, res.status]).toEqual([method, url, 400]);
      expect(res.json().error.data.fields[0]).toMatchObject({ field: "body", type: "depth" });
    }
    expect((await api("GET", "/ready")).status).toBe(200);
  });
});

describe("only declared filters reach the database, as plain values", () => {
  it.each([
    "name[$regex]=^Con",
    "name[$ne]=x",
    "$or[0][program_type]=lease",
    "default_interest_rate[$gt]=0.1",
    "$where=1",
    "$gt=1",
    "_id=x",
    "program_type[$ne]=lease",
    "is_active[$ne]=true",
  ])("GET /programs?%s (analyst) is 400", async (query) => {
    const res = await api("GET", `/api/v1/programs?${query}`, { token: T.analyst });
    expect(res.status).toBe(400);
    expect(res.body.error.type).toBe("VALIDATION_ERROR");
    expect(fieldsOf(res).length).toBeGreaterThan(0);
  });

  it("GET /fee-schedules?version=abc is 400 naming version", async () => {
    const res = await api("GET", "/api/v1/fee-schedules?version=abc", { token: T.analyst });
    expect(res.status).toBe(400);
    expect(fieldsOf(res)).toEqual(["version"]);
  });

  it("every list action of every service refuses operators, bracketed objects, prototype keys and undeclared keys", async () => {
    const wrong: string[] = [];
    for (const route of listRoutes()) {
      const declared = (route.op.parameters ?? []).filter((p: any) => p.in === "query").map((p: any) => p.name as string);
      const probes = ["$where=1", "$gt=1", "_id=x", "not_a_filter_xyz=1", "__proto__[polluted]=1", "constructor=1", "prototype=1", "a.b=1"];
      for (const name of declared) probes.push(`${name}[$ne]=x`, `${name}[$regex]=.*`, `${name}[a]=1`, `${encodeURIComponent(`${name}[$gt]`)}=1`);
      for (const query of probes) {
        const res = await api("GET", `${route.path}?${query}`, { token: T.admin });
        if (res.status !== 400) wrong.push(`${route.path}?${query} → ${res.status}`);
      }
      const plain = await api("GET", `${route.path}?limit=5`, { token: T.admin });
      if (plain.status !== 200) wrong.push(`${route.path}?limit=5 → ${plain.status}`);
    }
    expect(wrong).toEqual([]);
    expect(({} as any).polluted).toBeUndefined();
  });
});

describe("cross-field rules run only on fields that passed their own validation", () => {
  const cases: [string, string, Record<string, unknown>, string][] = [
    ["POST", "/api/v1/products", { min_loan_amount: "1", max_loan_amount: "x" }, "max_loan_amount"],
    ["POST", "/api/v1/programs", { floor: "0", ceiling: "x" }, "ceiling"],
    ["POST", "/api/v1/fee-schedules", { fees: [null] }, "fees"],
    ["POST", "/api/v1/fee-schedules", { fees: {} }, "fees"],
    ["POST", "/api/v1/promotions", { promo_type: "zero_interest", apr: "x" }, "apr"],
  ];
  it.each(cases)("%s %s %j is 400 naming the bad field, and writes nothing", async (method, url, body, field) => {
    const before = (await api("GET", `${url}?limit=500`, { token: T.admin })).body.total;
    const res = await api(method, url, { token: T.admin, body });
    expect(res.status).toBe(400);
    expect(fieldsOf(res)).toContain(field);
    // The field's own rule refused it; no cross-field rule judged the bad value.
    expect(res.body.error.data.fields.filter((f: any) => f.field === field).every((f: any) => f.rule === "field")).toBe(true);
    expect((await api("GET", `${url}?limit=500`, { token: T.admin })).body.total).toBe(before);
  });

  it("still names cross-field errors among valid fields in the same 400", async () => {
    const res = await api("POST", "/api/v1/programs", { token: T.admin, body: { name: "X", program_type: "installment", day_count_convention: "actual_365", accrual_method: "simple", payment_allocation_order: ["interest", "fees", "principal"], index_name: "SOFR", margin: "0.01", adjustment_frequency: "monthly", floor: "0.09", ceiling: "0.05", description: 7 } });
    expect(res.status).toBe(400);
    expect(fieldsOf(res).sort()).toEqual(["ceiling", "description"]);
  });
});

describe("prototype keys anywhere are 400", () => {
  it.each([
    '{"__proto__":{"is_admin":true},"name":"x"}',
    '{"name":"x","program_config":{"constructor":{"prototype":{"x":1}}}}',
    '{"name":"x","fees":[{"prototype":1}]}',
    '{"name":"x","$set":{"a":1}}',
  ])("POST /programs %s", async (body) => {
    const res = await raw("POST", "/api/v1/programs", body);
    expect(res.status).toBe(400);
    expect(res.json().error.data.fields[0].type).toMatch(/forbiddenKey|operator/);
  });
  it("in a query too", async () => {
    for (const q of ["__proto__=1", "constructor[x]=1", "prototype=1"]) expect((await api("GET", `/api/v1/programs?${q}`, { token: T.admin })).status).toBe(400);
  });
});

describe("PATCH needs the version it read", () => {
  let id: string;
  let version: number;
  beforeAll(async () => {
    const list = await api("GET", "/api/v1/programs?limit=1", { token: T.admin });
    ({ id, version } = list.body.items[0]);
  });

  it("without a version is 428 and changes nothing", async () => {
    const res = await api("PATCH", `/api/v1/programs/${id}`, { token: T.admin, body: { description: "blind overwrite" } });
    expect(res.status).toBe(428);
    expect((await api("GET", `/api/v1/programs/${id}`, { token: T.admin })).body.version).toBe(version);
  });

  it("with a stale version (body or If-Match) is 409", async () => {
    expect((await api("PATCH", `/api/v1/programs/${id}`, { token: T.admin, body: { description: "x", version: version + 5 } })).status).toBe(409);
    expect((await raw("PATCH", `/api/v1/programs/${id}`, JSON.stringify({ description: "x" }), { "If-Match": `"${version + 5}"` })).status).toBe(409);
  });

  it("with If-Match carrying the current version is 200, and the next If-Match is stale", async () => {
    const ok = await raw("PATCH", `/api/v1/programs/${id}`, JSON.stringify({ description: "via If-Match" }), { "If-Match": `"${version}"` });
    expect(ok.status).toBe(200);
    expect(ok.json().version).toBe(version + 1);
    expect((await raw("PATCH", `/api/v1/programs/${id}`, JSON.stringify({ description: "again" }), { "If-Match": `"${version}"` })).status).toBe(409);
    expect((await raw("PATCH", `/api/v1/programs/${id}`, JSON.stringify({ description: "again" }), { "If-Match": "not-a-version" })).status).toBe(400);
  });
});

describe("business dates are 1900-01-01 … 2199-12-31", () => {
  it.each(["0000-01-01", "9999-12-31", "1899-12-31", "2200-01-01", "2026-02-29", "2026-13-01"])("%s is 400 wherever a date is taken", async (date) => {
    const post = await api("POST", "/api/v1/index-rates", { token: T.admin, body: { index_name: "SOFR", rate: "0.04", effective_date: date } });
    expect(post.status).toBe(400);
    expect(fieldsOf(post)).toEqual(["effective_date"]);
    expect((await api("GET", `/api/v1/index-rates?from=${date}`, { token: T.analyst })).status).toBe(400);
    expect((await api("GET", `/api/v1/index-rates/SOFR/on/${date}`, { token: T.analyst })).status).toBe(400);
  });
  it("the bounds themselves and a leap day are accepted", async () => {
    for (const date of ["1900-01-01", "2199-12-31", "2024-02-29", "2000-02-29"]) {
      expect((await api("GET", `/api/v1/index-rates?from=${date}`, { token: T.analyst })).status).toBe(200);
    }
  });
});

describe("metrics, methods, media types, messages", () => {
  it("serves no metrics on the public port", async () => {
    const res = await api("GET", "/metrics/prometheus");
    expect(res.status).toBe(404);
    expect(JSON.stringify(res.body)).not.toMatch(/process_arguments|os_hostname/);
  });

  it("answers 405 with Allow for a wrong method on a known path, 404 for an unknown path", async () => {
    const put = await api("PUT", "/api/v1/programs", { token: T.admin });
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toBe("GET, POST");
    expect((await api("DELETE", "/api/v1/programs/0123456789abcdef01234567", { token: T.admin })).status).toBe(405);
    expect((await api("GET", "/api/v1/no-such-thing", { token: T.admin })).status).toBe(404);
  });

  it("answers 415 for a body that is not JSON", async () => {
    const res = await raw("POST", "/api/v1/programs", "name=x", { "Content-Type": "application/x-www-form-urlencoded" });
    expect(res.status).toBe(415);
    expect((await raw("POST", "/api/v1/programs", "name=x", { "Content-Type": "text/plain" })).status).toBe(415);
  });

  it("does not name internal actions in a 403", async () => {
    const res = await api("POST", "/api/v1/programs", { token: T.analyst, body: { name: "x" } });
    expect(res.status).toBe(403);
    expect(JSON.stringify(res.body)).not.toMatch(/programs\.|createProgram/);
  });
});

describe("the OpenAPI document matches the validators", () => {
  const op = (path: string, method: string) => doc.paths[path][method];
  const bodyOf = (path: string, method: string) => op(path, method).requestBody.content["application/json"].schema;

  it("states id patterns, date formats, numeric and string bounds", () => {
    const id = op("/api/v1/programs/{id}", "get").parameters.find((p: any) => p.name === "id");
    expect(id.schema.pattern).toBe("^[a-f0-9]{24}$");
    const rate = bodyOf("/api/v1/index-rates", "post");
    expect(rate.properties.effective_date).toMatchObject({ type: "string", format: "date" });
    expect(new RegExp(rate.properties.effective_date.pattern).test("9999-12-31")).toBe(false);
    expect(rate.properties.index_name).toMatchObject({ type: "string", minLength: 1, maxLength: 40 });
    expect(rate.additionalProperties).toBe(false);
    const product = bodyOf("/api/v1/products", "post");
    expect(product.properties.min_term_months).toEqual({ type: "integer", minimum: 1, maximum: 600 });
    expect(product.properties.min_term_months.minLength).toBeUndefined();
    const limit = op("/api/v1/programs", "get").parameters.find((p: any) => p.name === "limit");
    expect(limit.schema).toMatchObject({ type: "integer", minimum: 1, maximum: 500 });
  });

  it("gives every route a request and response schema, no placeholder components, and no token on public routes", () => {
    expect(Object.keys(doc.components.schemas)).toEqual(["Error"]);
    for (const route of routes) {
      const success = Object.entries(route.op.responses).find(([s]) => s.startsWith("2"));
      expect([route.method, route.path, !!success]).toEqual([route.method, route.path, true]);
      expect(JSON.stringify(success![1])).not.toContain("oneOf");
      if (["POST", "PATCH", "PUT"].includes(route.method)) expect(route.op.requestBody.content["application/json"].schema.type).toBe("object");
    }
    for (const path of ["/health", "/ready", "/api/openapi.json"]) expect(doc.paths[path].get.security).toEqual([]);
    expect(doc.paths["/api/v1/programs"].get.security).toBeUndefined();
    expect(doc.paths["/api/v1/programs/{id}"].patch.requestBody.content["application/json"].schema.required).toContain("version");
  });

  it("serves an interactive page for it", async () => {
    const page = await fetch(`${base}/api/openapi/ui`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("/api/openapi.json");
    expect((await fetch(`${base}/api/openapi/assets/swagger-ui-bundle.js`)).status).toBe(200);
    // It never reflects a visitor's input into its script.
    const probe = await fetch(`${base}/api/openapi/ui?url=${encodeURIComponent('");alert(1);//')}`);
    expect(await probe.text()).not.toContain("alert(1)");
    expect((await fetch(`${base}/api/openapi/assets/${encodeURIComponent("../../package.json")}`)).status).toBe(400);
  });
});
