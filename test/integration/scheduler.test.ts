/**
 * The scheduler's tick ledger: one tick per (job, business date) however often it is asked for,
 * delivered durably to the jobs' consumers, missed days caught up oldest first.
 */
import type { ServiceBroker } from "moleculer";
import { DateTime } from "luxon";
import { startTestMongo, uniqueDbUrl } from "../support/mongo";
import type { RunningMongo } from "../../shared/runtime/mongo-server";
import { MongoMixin } from "../../shared/db/mongo.mixin";
import { DurableEventsMixin } from "../../shared/events/durable-events.mixin";
import type { DeliveredEvent } from "../../shared/events/bus";
import { businessToday } from "../../shared/runtime/business-date";
import { eventually, startNode } from "../support/system";

let mongo: RunningMongo;
let broker: ServiceBroker;
const ticks: DeliveredEvent[] = [];

beforeAll(async () => {
  mongo = await startTestMongo();
  broker = await startNode({
    nodeID: "sched",
    services: ["scheduler"],
    mongoUrl: uniqueDbUrl(mongo.url, "scheduler"),
    extraServices: [
      {
        name: "tick-consumer",
        mixins: [MongoMixin({}), DurableEventsMixin({ subscriptions: { "scheduler.tick.>": "onTick" } })],
        methods: { onTick(event: DeliveredEvent) { ticks.push(event); } },
      },
    ],
  });
});

afterAll(async () => {
  await broker?.stop();
  await mongo?.stop();
});

const tz = "America/New_York";

it("emits a tick once per job and business date, however often it is asked for", async () => {
  const date = DateTime.fromISO(businessToday(tz)).minus({ days: 40 }).toISODate()!;
  const first: any = await broker.call("scheduler.runTick", { job: "snapshots", business_date: date });
  const again: any = await broker.call("scheduler.runTick", { job: "snapshots", business_date: date, trigger: "cron" });
  expect(first).toMatchObject({ tick_id: `snapshots:${date}`, duplicate: false });
  expect(again).toMatchObject({ tick_id: `snapshots:${date}`, duplicate: true });
  await eventually(() => ticks.some((t) => t.id === `snapshots:${date}`));
  // Give a doubled delivery every chance to show up: a later tick is delivered after it.
  await broker.call("scheduler.runTick", { job: "tapes", business_date: date });
  await eventually(() => ticks.some((t) => t.id === `tapes:${date}`));
  expect(ticks.filter((t) => t.id === `snapshots:${date}`)).toHaveLength(1);
  expect(ticks.find((t) => t.id === `snapshots:${date}`)!.payload).toMatchObject({ job: "snapshots", business_date: date, trigger: "admin" });
});

it("refuses a tick for a future business date", async () => {
  const tomorrow = DateTime.fromISO(businessToday(tz)).plus({ days: 2 }).toISODate()!;
  await expect(broker.call("scheduler.runTick", { job: "snapshots", business_date: tomorrow })).rejects.toMatchObject({ code: 422 });
});

it("catches up the days a job missed, oldest first, up to its last due day", async () => {
  const today = businessToday(tz);
  const threeAgo = DateTime.fromISO(today).minus({ days: 3 }).toISODate()!;
  await broker.call("scheduler.runTick", { job: "auto_assign", business_date: threeAgo });
  const result: any = await broker.call("scheduler.catchUp");
  const autoAssigns = result.emitted.filter((id: string) => id.startsWith("auto_assign:"));
  // auto_assign runs at 05:00: before that, yesterday is the last due day.
  const dueToday = DateTime.now().setZone(tz).hour >= 5;
  const expected = [2, 1, ...(dueToday ? [0] : [])].map((n) => `auto_assign:${DateTime.fromISO(today).minus({ days: n }).toISODate()}`);
  expect(autoAssigns).toEqual(expected);
  const list: any = await broker.call("scheduler.listTicks", { job: "auto_assign", limit: 10, offset: 0 });
  expect(list.items.map((t: any) => t.business_date)).toEqual([...expected].reverse().map((id) => id.split(":")[1]).concat(threeAgo));
  // Asked again, nothing new is due.
  const again: any = await broker.call("scheduler.catchUp");
  expect(again.emitted).toEqual([]);
});
