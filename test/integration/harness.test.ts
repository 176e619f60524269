/**
 * Proves the test harness: the MongoDB server it starts (often the Java wire server) handles the
 * mongoose features DESIGN.md §1 allows, and nats-server runs with JetStream.
 */
import mongoose, { Schema, Types, type Connection } from "mongoose";
import { AckPolicy, connect, StringCodec, type NatsConnection } from "nats";
import { startTestMongo, uniqueDbUrl, type RunningMongo } from "../support/mongo";
import { startNats, type RunningNats } from "../support/nats";

describe("test harness", () => {
  let mongo: RunningMongo;
  let nats: RunningNats;
  let conn: Connection;
  let nc: NatsConnection;

  beforeAll(async () => {
    [mongo, nats] = await Promise.all([startTestMongo(), startNats({ jetstream: true })]);
    conn = await mongoose.createConnection(uniqueDbUrl(mongo.url, "harness")).asPromise();
    nc = await connect({ servers: nats.url });
  });

  afterAll(async () => {
    await nc?.close();
    await conn?.close();
    await Promise.all([mongo?.stop(), nats?.stop()]);
  });

  describe("mongoose on the MongoDB server", () => {
    interface Account {
      code: string;
      group: string;
      balance: Types.Decimal128;
    }
    const dec = (s: string): Types.Decimal128 => Types.Decimal128.fromString(s);
    const schema = new Schema<Account>({
      code: { type: String, required: true, unique: true },
      group: { type: String, required: true },
      balance: { type: Schema.Types.Decimal128, required: true },
    });
    let Accounts: mongoose.Model<Account>;

    beforeAll(async () => {
      Accounts = conn.model<Account>("Account", schema);
      await Accounts.createIndexes();
    });

    it("inserts and enforces a unique index with code 11000", async () => {
      await Accounts.create({ code: "A1", group: "g1", balance: dec("100.10") });
      await expect(Accounts.create({ code: "A1", group: "g1", balance: dec("1.00") })).rejects.toMatchObject({
        code: 11000,
      });
    });

    it("applies $inc to a Decimal128 exactly", async () => {
      await Accounts.updateOne({ code: "A1" }, { $inc: { balance: dec("0.20") } });
      const doc = await Accounts.findOne({ code: "A1" }).lean();
      expect(doc?.balance.toString()).toBe("100.30");
    });

    it("bulkWrites and sums Decimal128 in $match/$group", async () => {
      const result = await Accounts.bulkWrite([
        { insertOne: { document: { code: "B1", group: "g2", balance: dec("0.10") } } },
        { insertOne: { document: { code: "B2", group: "g2", balance: dec("0.20") } } },
        { updateOne: { filter: { code: "A1" }, update: { $set: { group: "g2" } } } },
        { updateOne: { filter: { code: "Z9" }, update: { $set: { group: "g3", balance: dec("5") } }, upsert: true } },
      ]);
      expect(result.insertedCount).toBe(2);
      expect(result.modifiedCount).toBe(1);
      expect(result.upsertedCount).toBe(1);

      const rows = await Accounts.aggregate<{ _id: string; total: Types.Decimal128; n: number }>([
        { $match: { group: "g2" } },
        { $group: { _id: "$group", total: { $sum: "$balance" }, n: { $sum: 1 } } },
      ]);
      expect(rows).toHaveLength(1);
      // Decimal arithmetic: 0.10 + 0.20 is exactly 0.30, unlike doubles.
      expect(rows[0].total.toString()).toBe("100.60");
      expect(rows[0].n).toBe(3);
    });

    it("compares Decimal128 in queries", async () => {
      const big = await Accounts.find({ balance: { $gt: dec("1.00") } }).sort({ code: 1 }).lean();
      expect(big.map((d) => d.code)).toEqual(["A1", "Z9"]);
    });
  });

  it("names a fresh database per call and keeps hosts and options", () => {
    const a = uniqueDbUrl("mongodb://h1:1,h2:2/?replicaSet=rs0", "my file.test");
    const b = uniqueDbUrl("mongodb://h1:1,h2:2/?replicaSet=rs0", "my file.test");
    expect(a).toMatch(/^mongodb:\/\/h1:1,h2:2\/my_file_test_[A-Za-z0-9_]+\?replicaSet=rs0$/);
    expect(a).not.toBe(b);
    expect(uniqueDbUrl("mongodb://127.0.0.1:27017", "x")).toMatch(/^mongodb:\/\/127\.0\.0\.1:27017\/x_\w+$/);
    expect(["external", "testcontainers", "java-wire"]).toContain(mongo.kind);
  });

  describe("nats-server", () => {
    const sc = StringCodec();

    it("delivers a published message to a subscriber", async () => {
      const sub = nc.subscribe("harness.ping", { max: 1 });
      nc.publish("harness.ping", sc.encode("hello"));
      for await (const msg of sub) {
        expect(sc.decode(msg.data)).toBe("hello");
      }
    });

    it("runs JetStream: stream, deduplicated publish, durable consumer", async () => {
      const jsm = await nc.jetstreamManager();
      await jsm.streams.add({ name: "HARNESS", subjects: ["harness.js.>"] });
      const js = nc.jetstream();
      const first = await js.publish("harness.js.a", sc.encode("one"), { msgID: "m1" });
      const again = await js.publish("harness.js.a", sc.encode("one"), { msgID: "m1" });
      expect(again.duplicate).toBe(true);
      expect(again.seq).toBe(first.seq);

      await jsm.consumers.add("HARNESS", { durable_name: "harness", ack_policy: AckPolicy.Explicit });
      const consumer = await js.consumers.get("HARNESS", "harness");
      const msg = await consumer.next({ expires: 2000 });
      expect(msg && sc.decode(msg.data)).toBe("one");
      msg?.ack();
    });

    it("can be killed like a crash and still cleaned up", async () => {
      const other = await startNats();
      const client = await connect({ servers: other.url, reconnect: false });
      const closed = client.closed();
      other.kill();
      await closed;
      await other.stop();
    });
  });
});
