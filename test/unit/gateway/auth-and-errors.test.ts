import { Errors } from "moleculer";
import { DEV_TOKEN, hashToken, isAllowed, parseAuthTokens } from "../../../shared/auth/roles";
import { errorBody } from "../../../shared/http/error-body";
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
