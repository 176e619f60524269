import { Errors } from "moleculer";
import { DEV_TOKEN, hashToken, isAllowed, parseAuthTokens } from "../../../shared/auth/roles";
import { errorBody, writeErrorResponse } from "../../../shared/http/error-body";
import { BadRequestError, ConflictError, NotFoundError } from "../../../shared/errors";

describe("AUTH_TOKENS", () => {
  it("parses roles and investor ids", () => {
    const table = parseAuthTokens("a1:admin, s1:servicer,x1:analyst,i1:investor:inv-42", "production");
    expect(table.get(hashToken("a1"))?.role).toBe("admin");
    expect(table.get(hashToken("i1"))).toMatchObject({ role: "investor", investor_id: "inv-42" });
    expect(table.get(hashToken("nope"))).toBeUndefined();
  });
  it("has a development token only outside production", () => {
    expect(parseAuthTokens("", "development").get(hashToken(DEV_TOKEN))?.role).toBe("admin");
    expect(() => parseAuthTokens("", "production")).toThrow(/AUTH_TOKENS must be set/);
  });
  it("refuses unknown roles and investor tokens without an id, without echoing the secret", () => {
    expect(() => parseAuthTokens("supersecret:root", "development")).toThrow(/supe…/);
    expect(() => parseAuthTokens("supersecret:root", "development")).not.toThrow(/supersecret/);
    expect(() => parseAuthTokens("i1:investor", "development")).toThrow(/investor tokens need an id/);
  });
  it("lets admin do everything and others only what an action names", () => {
    expect(isAllowed({ role: "admin", token_id: "x" }, undefined)).toBe(true);
    expect(isAllowed({ role: "analyst", token_id: "x" }, undefined)).toBe(false);
    expect(isAllowed({ role: "analyst", token_id: "x" }, ["admin", "analyst"])).toBe(true);
  });
});

describe("errorBody", () => {
  it("turns validator errors into a 400 that names every field", () => {
    const err = new Errors.ValidationError("Parameters validation error!", "VALIDATION_ERROR", [
      { type: "required", field: "name", message: "The 'name' field is required." },
      { type: "objectStrict", field: undefined, actual: "foo, bar", message: "forbidden keys" },
    ] as any);
    const { status, body } = errorBody(err);
    expect(status).toBe(400);
    expect(body.error.type).toBe("VALIDATION_ERROR");
    expect((body.error.data as any).fields.map((f: any) => f.field)).toEqual(["name", "foo", "bar"]);
  });
  it("keeps client errors and hides internal ones", () => {
    expect(errorBody(new NotFoundError("loan", "1")).status).toBe(404);
    expect(errorBody(new ConflictError("stale")).status).toBe(409);
    expect(errorBody(new BadRequestError("bad", [{ field: "a", message: "m" }])).body.error.data).toEqual({ fields: [{ field: "a", message: "m" }] });
    const internal = errorBody(new Error("connection string mongodb://user:pw@host"), "req-1");
    expect(internal.status).toBe(500);
    expect(JSON.stringify(internal.body)).not.toContain("mongodb://");
    expect(internal.body.error.data).toEqual({ request_id: "req-1" });
  });
});

describe("errorBody echoes at most a short preview (issue 7)", () => {
  const deep = (levels: number) => {
    let v: any = 1;
    for (let i = 0; i < levels; i++) v = { a: v };
    return v;
  };
  it("never serialises a client's value whole, however deep or long", () => {
    const err = new Errors.ValidationError("Parameters validation error!", "VALIDATION_ERROR", [
      { type: "string", field: "index_name", message: "The 'index_name' field must be a string.", actual: deep(100_000) },
      { type: "stringPattern", field: "rate", message: "x".repeat(10_000), actual: "9".repeat(1_000_000) },
    ] as any);
    const { status, body } = errorBody(err);
    expect(status).toBe(400);
    const text = JSON.stringify(body);
    expect(text.length).toBeLessThan(1500);
    const [first, second] = (body.error.data as any).fields;
    expect(first).toMatchObject({ field: "index_name", actual: "[object]", rule: "field" });
    expect(second.actual.length).toBeLessThanOrEqual(61);
    expect(second.message.length).toBeLessThanOrEqual(241);
  });
  it("clips a client error's data in depth and size", () => {
    const err = new ConflictError("x".repeat(5000), { nested: deep(10_000), list: Array.from({ length: 10_000 }, (_, i) => i) });
    const { status, body } = errorBody(err);
    expect(status).toBe(409);
    expect(JSON.stringify(body).length).toBeLessThan(1500);
  });
  it("writes a response whatever the error, with Allow on a 405", () => {
    const headers: Record<string, unknown> = {};
    let status = 0;
    let sent = "";
    const res: any = { headersSent: false, setHeader: (k: string, v: unknown) => (headers[k] = v), writeHead: (s: number) => (status = s), end: (t: string) => (sent = t) };
    writeErrorResponse(res, { code: 405, type: "METHOD_NOT_ALLOWED", message: "no", data: { allow: ["GET", "POST"] } }, "r1", () => undefined);
    expect(status).toBe(405);
    expect(headers.Allow).toBe("GET, POST");
    expect(JSON.parse(sent).error.type).toBe("METHOD_NOT_ALLOWED");
    const circular: any = { code: 400, message: "m" };
    circular.data = circular;
    writeErrorResponse(res, circular, "r2", () => undefined);
    expect(status).toBe(400);
  });
});
