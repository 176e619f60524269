/** Issue 7: the gateway's first look at a request (shared/http/request-guard.ts). */
import { applyIfMatch, bodyKeyErrors, isJsonMediaType, nestingDepth, parseJsonBody, queryKeyErrors, REQUEST_LIMITS } from "../../../shared/http/request-guard";

describe("nestingDepth", () => {
  it("counts objects and arrays, not brackets inside strings", () => {
    expect(nestingDepth('{"a":[1,{"b":2}]}')).toBe(3);
    expect(nestingDepth('{"a":"[[[{{{"}')).toBe(1);
    expect(nestingDepth('{"a":"\\"[[["}')).toBe(1);
    expect(nestingDepth("1")).toBe(0);
  });
  it("stops early on deep input, in linear time and without recursion", () => {
    const text = "[".repeat(1_000_000) + "]".repeat(1_000_000);
    const started = Date.now();
    expect(nestingDepth(text, 32)).toBe(33);
    expect(nestingDepth(text)).toBe(1_000_000);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe("parseJsonBody", () => {
  const parse = (raw: string, type = "application/json") => parseJsonBody(raw, type, REQUEST_LIMITS.maxDepth);
  it("takes an empty body as {} and a JSON object as itself", () => {
    expect(parse("")).toEqual({});
    expect(parse('{"a":1}', "application/json; charset=utf-8")).toEqual({ a: 1 });
    expect(parse('{"a":1}', "application/merge-patch+json")).toEqual({ a: 1 });
  });
  it("refuses a body that is not JSON with 415", () => {
    expect(() => parse("a=1", "application/x-www-form-urlencoded")).toThrow(expect.objectContaining({ code: 415 }));
    expect(() => parseJsonBody('{"a":1}', undefined, 32)).toThrow(expect.objectContaining({ code: 415 }));
    expect(isJsonMediaType("text/json")).toBe(false);
  });
  it("refuses deep nesting, malformed JSON and non-objects with 400 before anything recurses", () => {
    expect(() => parse(`{"a":${"[".repeat(100_000)}${"]".repeat(100_000)}}`)).toThrow(expect.objectContaining({ code: 400, data: { fields: [expect.objectContaining({ type: "depth" })] } }));
    expect(() => parse("{nope")).toThrow(expect.objectContaining({ code: 400, type: "INVALID_REQUEST_BODY" }));
    expect(() => parse("[1,2]")).toThrow(expect.objectContaining({ code: 400 }));
    expect(() => parse('"x"')).toThrow(expect.objectContaining({ code: 400 }));
  });
  it("refuses prototype and operator keys anywhere, naming their paths", () => {
    expect(() => parse('{"__proto__":{"x":1}}')).toThrow(expect.objectContaining({ data: { fields: [expect.objectContaining({ field: "__proto__", type: "forbiddenKey" })] } }));
    expect(bodyKeyErrors(JSON.parse('{"a":[{"b":{"constructor":1}}],"c":{"$gt":1},"prototype":2}')).map((e) => e.field).sort()).toEqual(["a[0].b.constructor", "c.$gt", "prototype"]);
    expect(bodyKeyErrors({ a: ["$not-a-key-inside-an-array-value"] })).toEqual([]);
  });
});

describe("queryKeyErrors", () => {
  it("accepts plain field names only", () => {
    expect(queryKeyErrors("limit=5&offset=0&program_type=lease&is_active=true")).toEqual([]);
    const bad = ["name[$regex]=^Con", "name%5B%24ne%5D=x", "$or[0][program_type]=lease", "$where=1", "a.b=1", "a[]=1", "__proto__=1", "constructor=1", "prototype=1"];
    for (const q of bad) expect([q, queryKeyErrors(q).length]).toEqual([q, 1]);
    expect(queryKeyErrors("name%5B%24ne%5D=x")[0]).toMatchObject({ field: "name[$ne]", type: "operator" });
  });
});

describe("applyIfMatch", () => {
  const req = (headers: Record<string, string>, body: Record<string, unknown> = {}, method = "PATCH") => ({ method, headers, body }) as any;
  it("fills the body's version from If-Match on a PATCH, unless the body has one", () => {
    for (const header of ['"3"', 'W/"3"', "3"]) {
      const r = req({ "if-match": header });
      applyIfMatch(r);
      expect(r.body.version).toBe(3);
    }
    const own = req({ "if-match": '"3"' }, { version: 7 });
    applyIfMatch(own);
    expect(own.body.version).toBe(7);
    const post = req({ "if-match": '"3"' }, {}, "POST");
    applyIfMatch(post);
    expect(post.body.version).toBeUndefined();
  });
  it("refuses an If-Match that is not a version", () => {
    expect(() => applyIfMatch(req({ "if-match": "*" }))).toThrow(expect.objectContaining({ code: 400 }));
  });
});
