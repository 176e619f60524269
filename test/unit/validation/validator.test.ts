/** Issue 7: the rules every action gets from the broker's validator (shared/validation/validator.ts). */
import { ServiceBroker } from "moleculer";
import { PlatformValidator, convertQueryStrings } from "../../../shared/validation/validator";
import { isoDate, money, rate, text, withCrossFieldCheck } from "../../../shared/validation/fields";
import { patchParams } from "../../../shared/validation/patch";

const rangeCheck = (b: Record<string, any>) => (b.min !== undefined && b.max !== undefined && Number(b.min) > Number(b.max) ? [{ field: "max", type: "range", message: "max < min" }] : []);

let broker: ServiceBroker;
beforeAll(async () => {
  broker = new ServiceBroker({ logger: false, validator: new PlatformValidator() as any });
  broker.createService({
    name: "t",
    actions: {
      create: { rest: "POST /things", params: { name: withCrossFieldCheck(text(20), rangeCheck), min: money(), max: money(), note: text(50, { optional: true }) }, handler: (ctx: any) => ctx.params },
      list: { rest: "GET /things", params: { n: { type: "number", integer: true, optional: true, convert: true }, flag: { type: "boolean", optional: true, convert: true } }, handler: (ctx: any) => ctx.params },
      bare: { rest: "GET /bare", handler: () => "ok" },
      patch: { rest: "PATCH /things/:id", params: { id: "string", ...patchParams({ name: withCrossFieldCheck(text(20), rangeCheck), min: money(), max: money() }) }, handler: (ctx: any) => ctx.params },
      internal: { params: { a: "string" }, handler: (ctx: any) => ctx.params },
      internalNulls: { params: { req: "string", opt: "string|optional", obj: { type: "number", optional: true }, def: { type: "number", optional: true, default: 5 } }, handler: (ctx: any) => ctx.params },
      nested: {
        rest: "POST /nested",
        params: {
          range: { type: "object", props: { min: withCrossFieldCheck(money(), rangeCheck), max: money() } },
          ranges: { type: "array", optional: true, items: { type: "object", props: { min: withCrossFieldCheck(money(), rangeCheck), max: money() } } },
        },
        handler: (ctx: any) => ctx.params,
      },
    },
  });
  await broker.start();
});
afterAll(() => broker.stop());

const fields = async (p: Promise<unknown>) => {
  try {
    await p;
    return [];
  } catch (err: any) {
    return err.data.map((e: any) => `${e.field ?? e.actual}:${e.type}${e.crossField ? ":cross" : ""}`).sort();
  }
};

describe("REST params are strict", () => {
  it("refuses keys an action does not declare, even with no params at all", async () => {
    expect(await fields(broker.call("t.list", { $where: "1", n: "1" }))).toEqual(["$where:objectStrict"]);
    expect(await fields(broker.call("t.bare", { x: 1 }))).toEqual(["x:objectStrict"]);
    // Actions without a REST route keep their own choice.
    await expect(broker.call("t.internal", { a: "x", extra: 1 })).resolves.toEqual({ a: "x", extra: 1 });
  });
});

describe("cross-field rules", () => {
  it("run on the fields that passed their own rules only", async () => {
    expect(await fields(broker.call("t.create", { name: "a", min: "1", max: "x" }))).toEqual(["max:stringPattern"]);
    expect(await fields(broker.call("t.create", { name: "a", min: "5", max: "1" }))).toEqual(["max:range:cross"]);
    expect(await fields(broker.call("t.create", { name: "a", min: "5", max: "1", note: 7 }))).toEqual(["max:range:cross", "note:string"]);
  });
  it("judge nested objects and each item of an array, naming fields by their full path", async () => {
    expect(await fields(broker.call("t.nested", { range: { min: "5", max: "1" } }))).toEqual(["range.max:range:cross"]);
    expect(await fields(broker.call("t.nested", { range: { min: "1", max: "2" }, ranges: [{ min: "1", max: "2" }, { min: "9", max: "3" }, { min: "x", max: "1" }] }))).toEqual([
      "ranges[1].max:range:cross",
      "ranges[2].min:stringPattern",
    ]);
  });
  it("are left to the handler in a PATCH, which judges the merged entity", async () => {
    await expect(broker.call("t.patch", { id: "1", min: "5", max: "1", version: 1 })).resolves.toMatchObject({ min: "5.00", max: "1.00" });
  });
});

describe("null is not a value of an optional field", () => {
  it("refuses null where a field is optional", async () => {
    expect(await fields(broker.call("t.create", { name: "a", min: "1", max: "2", note: null }))).toEqual(["note:required"]);
    expect(await fields(broker.call("t.patch", { id: "1", name: null, version: 1 }))).toEqual(["name:required"]);
  });
});

describe("null outside REST keeps fastest-validator's meaning", () => {
  it("an optional field of an internal action takes null, a required one does not, a default fills it", async () => {
    await expect(broker.call("t.internalNulls", { req: "x", opt: null, obj: null, def: null })).resolves.toEqual({ req: "x", opt: null, obj: null, def: 5 });
    expect(await fields(broker.call("t.internalNulls", { req: null }))).toEqual(["req:required"]);
  });
});

describe("a REST PATCH needs a version", () => {
  it("is 428 without one, and validated with one", async () => {
    await expect(broker.call("t.patch", { id: "1", name: "x" })).rejects.toMatchObject({ code: 428 });
    await expect(broker.call("t.patch", { id: "1", name: "x", version: 0 })).rejects.toMatchObject({ code: 422, type: "VALIDATION_ERROR" });
    await expect(broker.call("t.patch", { id: "1", name: "x", version: 2 })).resolves.toMatchObject({ name: "x", version: 2 });
  });
});

describe("query strings convert strictly", () => {
  it("takes plain decimals and true/false only", async () => {
    await expect(broker.call("t.list", { n: "12", flag: "true" })).resolves.toEqual({ n: 12, flag: true });
    for (const n of ["", "0x10", " 5", "1e3", "5 "]) expect([n, await fields(broker.call("t.list", { n }))]).toEqual([n, ["n:number"]]);
    for (const flag of ["1", "on", "yes"]) expect([flag, await fields(broker.call("t.list", { flag }))]).toEqual([flag, ["flag:boolean"]]);
    expect(convertQueryStrings({ n: "-3.5", other: "7" }, { n: { type: "number" } })).toEqual({ n: -3.5, other: "7" });
    // an integer param takes no fraction, not even ".0" (found by the fuzz stage: offset=0.0)
    expect(convertQueryStrings({ offset: "0.0", limit: "10" }, { offset: { type: "number", integer: true }, limit: { type: "number", integer: true } })).toEqual({ offset: "0.0", limit: 10 });
  });
});

describe("field builders state their whole rule in the pattern", () => {
  const matches = (rule: { pattern: string }, value: string) => new RegExp(rule.pattern).test(value);
  it("business dates: real calendar dates from 1900-01-01 to 2199-12-31", () => {
    const d = isoDate();
    for (const ok of ["1900-01-01", "2199-12-31", "2024-02-29", "2000-02-29", "2026-04-30"]) expect([ok, matches(d, ok)]).toEqual([ok, true]);
    for (const bad of ["0000-01-01", "9999-12-31", "1899-12-31", "2200-01-01", "1900-02-29", "2100-02-29", "2026-02-29", "2026-04-31", "2026-13-01", "2026-1-01", "２０２６-01-01", "2026-01-01\n"]) {
      expect([bad, matches(d, bad)]).toEqual([bad, false]);
    }
  });
  it("money, positive money and unit rates", () => {
    expect(["0", "0.00", "1250.5", "9999999999999.99"].every((v) => matches(money(), v))).toBe(true);
    expect(["-1", "1.234", "1e3", "14444444444444"].some((v) => matches(money(), v))).toBe(false);
    expect(["0", "0.00", "00.01"].some((v) => matches(money({ positive: true }), v))).toBe(false);
    expect(["0.01", "1", "12.50"].every((v) => matches(money({ positive: true }), v))).toBe(true);
    expect(["0", "0.0725", "1", "1.0000000000"].every((v) => matches(rate(), v))).toBe(true);
    expect(["1.01", "2", "0.12345678901", ".5"].some((v) => matches(rate(), v))).toBe(false);
  });
});
