/**
 * Retention of bookkeeping records against the MongoDB test server: what a rule no longer keeps
 * is deleted, what it keeps stays, and the durable-events mixin sweeps its processed events.
 */
import mongoose, { type Connection } from "mongoose";
import { purgeExpired, RetentionSweeper } from "../../../shared/db/retention";
import { processedEventsModel } from "../../../shared/events/idempotency";
import { quietLogger } from "../../support/events/wait";
import { startTestMongo, uniqueDbUrl, type RunningMongo } from "../../support/mongo";

describe("retention of bookkeeping records", () => {
  let mongo: RunningMongo;
  let conn: Connection;
  const day = 24 * 3600_000;

  beforeAll(async () => {
    mongo = await startTestMongo();
    conn = await mongoose.createConnection(uniqueDbUrl(mongo.url, "retention")).asPromise();
  });
  afterAll(async () => {
    await conn?.close();
    await mongo?.stop();
  });

  const seed = async (ages: number[]) => {
    const model = processedEventsModel(conn, "retention_processed");
    await model.deleteMany({});
    const now = Date.now();
    await model.insertMany(ages.map((age, i) => ({ _id: `c:e${i}`, consumer: "c", event_id: `e${i}`, subject: "loan.paid", delivery: 1, processed_at: new Date(now - age * day) })));
    return model;
  };

  it("deletes the records older than the rule keeps, and only those", async () => {
    const model = await seed([0, 10, 34.9, 35.1, 90]);
    const n = await purgeExpired({ name: "processed", model, field: "processed_at", keepMs: 35 * day });
    expect(n).toBe(2);
    expect((await model.find({}).lean()).map((r) => r._id).sort()).toEqual(["c:e0", "c:e1", "c:e2"]);
  });

  it("compares ISO-8601 text dates as text", async () => {
    const model = await seed([]);
    const at = (age: number) => new Date(Date.now() - age * day).toISOString();
    await model.collection.insertMany([{ _id: "k1", at: at(1) }, { _id: "k2", at: at(31) }] as any[]);
    expect(await purgeExpired({ name: "keys", model, field: "at", keepMs: 30 * day, iso: true })).toBe(1);
    expect((await model.find({}).lean()).map((r) => r._id)).toEqual(["k1"]);
  });

  it("a sweeper runs its rules at start and logs what went; a failing rule does not stop the others", async () => {
    const model = await seed([1, 50]);
    const broken = { deleteMany: async () => Promise.reject(new Error("server away")) } as any;
    const logged: string[] = [];
    const logger = { ...quietLogger, info: (m: string) => logged.push(m), warn: (m: string) => logged.push(m) };
    const sweeper = new RetentionSweeper(
      [
        { name: "broken", model: broken, field: "at", keepMs: day },
        { name: "processed", model, field: "processed_at", keepMs: 35 * day },
      ],
      logger,
    );
    sweeper.start();
    await sweeper.sweep();
    await sweeper.stop();
    expect(await model.countDocuments({})).toBe(1);
    expect(logged).toEqual([expect.stringContaining("broken: server away"), expect.stringContaining("1 processed record(s) older than 840 h deleted")]);
  });
});
