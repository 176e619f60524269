/**
 * The gateway's table of which service owns which REST path (shared/runtime/rest-surface.ts) must
 * agree with the services themselves: every REST action of every service resolves to it. A new
 * resource that fails here needs its base path added to REST_SURFACE.
 */
import { ServiceBroker } from "moleculer";
import { SERVICE_SCHEMAS } from "../../../services";
import { REST_SURFACE, serviceForPath } from "../../../shared/runtime/rest-surface";

function restPathsOf(schema: any): string[] {
  const broker = new ServiceBroker({ logger: false, metrics: false, tracing: false });
  const service: any = broker.createService(schema);
  const rest = service.settings?.rest;
  const bases: string[] = rest === undefined ? [`/${service.name}`] : Array.isArray(rest) ? rest : [rest];
  const paths: string[] = [];
  for (const action of Object.values<any>(service.schema.actions ?? {})) {
    for (const r of [action?.rest].flat().filter(Boolean)) {
      const path = typeof r === "string" ? (r.includes(" ") ? r.split(/\s+/)[1] : r) : r.path;
      for (const base of bases) paths.push(`${base}${path}`.replace(/\/+/g, "/"));
    }
  }
  return paths;
}

describe("REST surface", () => {
  for (const [name, schema] of Object.entries(SERVICE_SCHEMAS)) {
    if (name === "gateway") continue;
    it(`maps every REST route of ${name} to ${name}`, () => {
      const paths = restPathsOf(schema);
      // The services built so far have routes: the check is not vacuous for them.
      if (["programs", "rates", "scheduler"].includes(name)) expect(paths.length).toBeGreaterThan(1);
      for (const path of paths) expect([path, serviceForPath(path)]).toEqual([path, name]);
    });
  }

  it("resolves the most specific owner and nothing else", () => {
    expect(serviceForPath("/portfolios/p1/snapshots")).toBe("snapshots");
    expect(serviceForPath("/portfolios/p1/loans")).toBe("portfolios");
    expect(serviceForPath("/portfolios")).toBe("portfolios");
    expect(serviceForPath("/loans/l1/transactions/t1/rebook")).toBe("loans");
    expect(serviceForPath("/tape-fields")).toBe("tapes");
    expect(serviceForPath("/metrics/trend?level=program")).toBe("snapshots");
    expect(serviceForPath("/loansx")).toBeUndefined();
    expect(serviceForPath("/")).toBeUndefined();
    expect(Object.keys(REST_SURFACE)).not.toContain("gateway");
  });
});
