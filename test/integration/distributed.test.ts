/**
 * Issue 2, point 5: the distributed path. Two ServiceBrokers with their own node IDs, connected
 * only through a real nats-server: one calls the other's action, receives the other's event, and
 * the data went through mongoose into the MongoDB wire server and reads back.
 */
import { ServiceBroker } from "moleculer";
import mongoose from "mongoose";
import { startNats, type RunningNats } from "../support/nats";
import { startTestMongo, uniqueDbUrl } from "../support/mongo";
import type { RunningMongo } from "../../shared/runtime/mongo-server";
import { eventually, startNode } from "../support/system";

let nats: RunningNats;
let mongo: RunningMongo;
let rates: ServiceBroker;
let caller: ServiceBroker;
let mongoUrl: string;
const received: any[] = [];

beforeAll(async () => {
  [nats, mongo] = await Promise.all([startNats(), startTestMongo()]);
  mongoUrl = uniqueDbUrl(mongo.url, "distributed");
  rates = await startNode({ nodeID: "node-rates", services: ["rates"], mongoUrl, natsUrl: nats.url });
  caller = await startNode({
    nodeID: "node-caller",
    services: [],
    mongoUrl,
    natsUrl: nats.url,
    extraServices: [{ name: "watcher", events: { "index_rate.published"(ctx: any) { received.push({ from: ctx.nodeID, payload: ctx.params }); } } }],
  });
  await caller.waitForServices(["rates"], 15_000);
  await eventually(() => rates.registry.getServiceList({ onlyAvailable: true }).some((s: any) => s.name === "watcher"));
});

afterAll(async () => {
  await caller?.stop();
  await rates?.stop();
  await nats?.stop();
  await mongo?.stop();
});

it("calls a remote action, receives its event, and the write is in MongoDB", async () => {
  expect(caller.nodeID).not.toBe(rates.nodeID);
  expect(caller.getLocalService("rates")).toBeFalsy();

  const created: any = await caller.call("rates.createIndexRate", { index_name: "SOFR", rate: "0.0431", effective_date: "2026-03-02" });
  expect(created).toMatchObject({ index_name: "SOFR", rate: "0.0431", trailing_12_month_average: "0.04310000" });

  await eventually(() => received.length === 1);
  expect(received[0].from).toBe("node-rates");
  expect(received[0].payload.rate.id).toBe(created.id);

  // Read back through a separate mongoose connection: the rates node really wrote it.
  const conn = await mongoose.createConnection(mongoUrl).asPromise();
  try {
    const doc: any = await conn.collection("index_rates").findOne({ index_name: "SOFR" });
    expect(doc.rate.toString()).toBe("0.0431");
    expect(doc.effective_date).toBe("2026-03-02");
  } finally {
    await conn.close();
  }

  const answer: any = await caller.call("rates.rateOn", { index_name: "SOFR", date: "2026-04-01" });
  expect(answer.id).toBe(created.id);
});
