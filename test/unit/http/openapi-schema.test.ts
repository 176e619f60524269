/** Issue 7, point 9: the OpenAPI document says what the validators accept (shared/http/openapi*.ts). */
import { buildOpenApiDocument, entitySchema } from "../../../shared/http/openapi";
import { paramsToSchema, ruleToSchema } from "../../../shared/http/openapi-schema";
import { int, isoDate, money, objectId, oneOf, rate, text } from "../../../shared/validation/fields";
import { paginationParams } from "../../../shared/db/pagination";
import { patchParams } from "../../../shared/validation/patch";

describe("ruleToSchema", () => {
  it("keeps patterns, formats, bounds and enums, and puts string bounds on strings only", () => {
    expect(ruleToSchema(objectId)).toEqual({ type: "string", pattern: "^[a-f0-9]{24}$" });
    expect(ruleToSchema(isoDate())).toMatchObject({ type: "string", format: "date", pattern: expect.stringContaining("19|20|21") });
    expect(ruleToSchema(int(1, 600))).toEqual({ type: "integer", minimum: 1, maximum: 600 });
    expect(ruleToSchema(text(200))).toEqual({ type: "string", minLength: 1, maxLength: 200 });
    expect(ruleToSchema(money())).toEqual({ type: "string", pattern: "^[0-9]{1,13}(\\.[0-9]{1,2})?$" });
    expect(ruleToSchema(rate())).toMatchObject({ type: "string", pattern: expect.any(String) });
    expect(ruleToSchema(oneOf(["a", "b"] as const))).toEqual({ type: "string", enum: ["a", "b"] });
    expect(ruleToSchema({ type: "array", items: oneOf(["x"] as const), min: 1, max: 3 })).toEqual({ type: "array", items: { type: "string", enum: ["x"] }, minItems: 1, maxItems: 3 });
    expect(ruleToSchema({ type: "object", strict: true, props: { a: int(0, 1), b: text(3, { optional: true }) } })).toEqual({
      type: "object",
      properties: { a: { type: "integer", minimum: 0, maximum: 1 }, b: { type: "string", minLength: 0, maxLength: 3 } },
      required: ["a"],
      additionalProperties: false,
    });
    expect(ruleToSchema(paginationParams.limit)).toEqual({ type: "integer", minimum: 1, maximum: 500, default: 50 });
    expect(ruleToSchema("string|optional|max:5")).toEqual({ type: "string", maxLength: 5 });
  });
  it("treats REST params as strict and leaves forbidden (immutable) fields out", () => {
    const schema = paramsToSchema(patchParams({ name: text(10), kind: oneOf(["a"] as const) }, ["kind"]));
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties)).toEqual(["name", "version"]);
    expect(schema.required).toBeUndefined();
  });
});

describe("buildOpenApiDocument", () => {
  const doc = buildOpenApiDocument(
    [
      { method: "GET", path: "/api/v1/things", public: false, action: { name: "things.list", params: { kind: oneOf(["a"] as const, { optional: true }), ...paginationParams } } },
      { method: "POST", path: "/api/v1/things", public: false, action: { name: "things.create", params: { name: text(10) }, openapi: { status: 201, response: entitySchema({ name: text(10) }) } } },
      { method: "PATCH", path: "/api/v1/things/:id", public: false, action: { name: "things.update", params: { id: objectId, ...patchParams({ name: text(10) }) } } },
      { method: "GET", path: "/health", public: true, action: { name: "gateway.live", openapi: { response: { type: "object" } } } },
    ],
    { info: { title: "t", version: "1" } },
  );
  it("documents query parameters, bodies, path ids and success and error responses", () => {
    const list = doc.paths["/api/v1/things"].get;
    expect(list.parameters.map((p: any) => [p.name, p.in, p.required])).toEqual([["kind", "query", false], ["limit", "query", false], ["offset", "query", false]]);
    expect(list.responses["200"].content["application/json"].schema.required).toEqual(["items", "total", "limit", "offset"]);
    const create = doc.paths["/api/v1/things"].post;
    expect(Object.keys(create.responses)).toEqual(expect.arrayContaining(["201", "400", "401", "403", "409", "413", "415", "422"]));
    expect(create.responses["200"]).toBeUndefined();
    expect(create.responses["201"].content["application/json"].schema.properties.name).toEqual({ type: "string" });
    const patch = doc.paths["/api/v1/things/{id}"].patch;
    expect(patch.parameters[0]).toEqual({ name: "id", in: "path", required: true, schema: { type: "string", pattern: "^[a-f0-9]{24}$" } });
    expect(patch.requestBody.content["application/json"].schema.required).toEqual(["version"]);
    expect(Object.keys(patch.responses)).toEqual(expect.arrayContaining(["404", "428"]));
  });
  it("marks public routes as needing no token", () => {
    expect(doc.paths["/health"].get.security).toEqual([]);
    expect(doc.paths["/api/v1/things"].get.security).toBeUndefined();
    expect(doc.security).toEqual([{ bearerAuth: [] }]);
  });
});
