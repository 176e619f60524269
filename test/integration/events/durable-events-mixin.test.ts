/**
 * DurableEventsMixin in real brokers: a publishing service (`ledger`) and a consuming service
 * (`books`), each with MongoMixin first. Without a transporter they share the process-wide
 * in-process bus; with a NATS transporter they run on two nodes over JetStream. Also checks the
 * lifecycle order the mixin arranges (db before outbox, consumers after the service's own started,
 * consumers stopped first, db closed last).
 */
import { ServiceBroker, type ServiceSchema } from "moleculer";
import { Schema } from "mongoose";
import { brokerOptions } from "../../../moleculer.config";
import { readConfig } from "../../../shared/config";
import { MongoMixin } from "../../../shared/db/mongo.mixin";
import type { DeliveredEvent } from "../../../shared/events/bus";
import { DurableEventsMixin } from "../../../shared/events/durable-events.mixin";
import { waitFor } from "../../support/events/wait";
import { startTestMongo, uniqueDbUrl, type RunningMongo } from "../../support/mongo";
import { startNats, type RunningNats } from "../../support/nats";

const lifecycle: string[] = [];

const paymentSchema = new Schema({ _id: String, amount: String }, { versionKey: false });
const totalSchema = new Schema({ _id: String, count: Number, applied: [String] }, { versionKey: false });

function ledgerService(): ServiceSchema {
  return {
    name: "ledger",
    mixins: [MongoMixin({ ledger_payments: paymentSchema }), DurableEventsMixin()],
    actions: {
      pay: {
        params: { id: "string", amount: "string" },
        async handler(this: any, ctx: any) {
          const { id, amount } = ctx.params;
          // The business write (idempotent by id), then the event, keyed by the same id.
          await this.models.ledger_payments.updateOne({ _id: id }, { $setOnInsert: { amount } }, { upsert: true });
          await this.publishDurable("ledger.paid", `pay:${id}`, { id, amount });
          return { ok: true };
        },
      },
    },
    async started(this: any) {
      lifecycle.push(`ledger own started: db=${this.db?.readyState === 1} relay=${!!this.durable}`);
      // The service's own started can publish: the outbox is ready before it runs.
      await this.publishDurable("ledger.booted", `boot:${this.broker.nodeID}`, { node: this.broker.nodeID });
    },
    stopped(this: any) {
      lifecycle.push(`ledger own stopped: db=${this.db?.readyState === 1} relay=${!!this.durable}`);
    },
  };
}

function booksService(): ServiceSchema {
  return {
    name: "books",
    mixins: [
      MongoMixin({ books_totals: totalSchema }),
      DurableEventsMixin({ subscriptions: { "ledger.paid": "onPaid", "ledger.*": { handler: "onAnyLedger", concurrency: 2 } } }),
    ],
    async started(this: any) {
      lifecycle.push(`books own started: consumers=${this.durable?.consumers.length ?? 0}`);
      await this.models.books_totals.updateOne({ _id: "total" }, { $setOnInsert: { count: 0, applied: [] } }, { upsert: true });
    },
    stopped(this: any) {
      lifecycle.push(`books own stopped: consumers=${this.durable?.consumers.length ?? 0} db=${this.db?.readyState === 1}`);
    },
    methods: {
      // Idempotent by event id in one atomic single-document write (no transactions needed).
      async onPaid(this: any, event: DeliveredEvent) {
        await this.models.books_totals.updateOne({ _id: "total", applied: { $ne: event.id } }, { $inc: { count: 1 }, $push: { applied: event.id } });
      },
      async onAnyLedger(this: any, event: DeliveredEvent) {
        this.seen = [...(this.seen ?? []), event.subject];
      },
    },
  };
}

describe("DurableEventsMixin", () => {
  let mongo: RunningMongo;
  let nats: RunningNats;
  const brokers: ServiceBroker[] = [];

  beforeAll(async () => {
    [mongo, nats] = await Promise.all([startTestMongo(), startNats({ jetstream: true })]);
  });
  afterEach(async () => {
    await Promise.all(brokers.splice(0).map((b) => b.stop()));
  });
  afterAll(async () => {
    await Promise.all([mongo?.stop(), nats?.stop()]);
  });

  const broker = (env: Record<string, string>, mongoUrl: string): ServiceBroker => {
    const b = new ServiceBroker(brokerOptions(readConfig({ LOG_LEVEL: "warn", ...env }), { mongoUrl, skipProcessEventRegistration: true }));
    brokers.push(b);
    return b;
  };

  async function exercise(publisher: ServiceBroker, consumer: ServiceBroker): Promise<void> {
    const books = consumer.getLocalService("books") as any;
    for (const id of ["p1", "p2", "p3"]) await publisher.call("ledger.pay", { id, amount: "10.00" });
    await publisher.call("ledger.pay", { id: "p2", amount: "10.00" }); // a retried request: same event id
    await waitFor(async () => (await books.models.books_totals.findById("total").lean())?.count === 3, "three payments applied", 10_000);
    await waitFor(() => (books.seen ?? []).length === 4, "the wildcard consumer: 3 payments + the boot event", 10_000);
    expect([...books.seen].sort()).toEqual(["ledger.booted", "ledger.paid", "ledger.paid", "ledger.paid"]);
    // The processed record is written just after the method returns: wait for all seven.
    const processedEvents = books.db.collection("books_processed_events");
    await waitFor(async () => (await processedEvents.countDocuments()) === 7, "processed records");
    const processed = await processedEvents.find({}).toArray();
    // One record per (method, event): both subscriptions match ledger.paid.
    expect(processed.map((p: any) => p._id).sort()).toEqual([
      `books/onAnyLedger:boot:${publisher.nodeID}`,
      "books/onAnyLedger:pay:p1",
      "books/onAnyLedger:pay:p2",
      "books/onAnyLedger:pay:p3",
      "books/onPaid:pay:p1",
      "books/onPaid:pay:p2",
      "books/onPaid:pay:p3",
    ]);
    // Each record is deleted once published (the retried p2, if it was written again after its
    // record went, was published again under its id and dropped as a duplicate: books saw it once).
    const ledger = publisher.getLocalService("ledger") as any;
    await waitFor(async () => (await ledger.db.collection("ledger_outbox").countDocuments()) === 0, "outbox drained");
  }

  it("delivers in process without a transporter, in the lifecycle order it promises", async () => {
    lifecycle.length = 0;
    const b = broker({}, uniqueDbUrl(mongo.url, "mixin_mem"));
    b.createService(ledgerService());
    b.createService(booksService());
    await b.start();
    await exercise(b, b);
    await b.stop();
    brokers.splice(0);
    expect(lifecycle).toEqual(
      expect.arrayContaining([
        "ledger own started: db=true relay=true",
        "books own started: consumers=0",
        "ledger own stopped: db=true relay=true",
        "books own stopped: consumers=0 db=true",
      ]),
    );
  });

  it("still delivers when the service schema is itself wrapped as a mixin", async () => {
    // test/support/system.ts creates services as `{ mixins: [schema], settings }`: the wrapper has
    // no own started, so the service's started runs before the relay exists; its publish waits in
    // the outbox for the relay's first run.
    const b = broker({}, uniqueDbUrl(mongo.url, "mixin_wrapped"));
    b.createService({ mixins: [ledgerService()], settings: {} } as ServiceSchema);
    b.createService({ mixins: [booksService()], settings: {} } as ServiceSchema);
    await b.start();
    await exercise(b, b);
  });

  it("delivers across two nodes over JetStream with a NATS transporter", async () => {
    const dbUrl = uniqueDbUrl(mongo.url, "mixin_js");
    const env = { TRANSPORTER: nats.url, NAMESPACE: "mixin" };
    const pub = broker(env, dbUrl);
    const sub = broker(env, dbUrl);
    pub.createService(ledgerService());
    sub.createService(booksService());
    await Promise.all([pub.start(), sub.start()]);
    expect((pub.getLocalService("ledger") as any).durable.bus.kind).toBe("jetstream");
    await exercise(pub, sub);
  });

  it("uses JETSTREAM_URL over an in-process transporter setting", async () => {
    const { busTargetFor } = await import("../../../shared/events/broker-bus");
    const fake = { namespace: "", options: { transporter: null } } as any;
    expect(busTargetFor(fake, {})).toEqual({ namespace: "" });
    expect(busTargetFor(fake, { JETSTREAM_URL: nats.url })).toEqual({ natsUrl: nats.url, namespace: "" });
    const objectForm = { namespace: "ns", options: { transporter: { type: "NATS", options: { url: "nats://h:1" } } } } as any;
    expect(busTargetFor(objectForm, {})).toEqual({ natsUrl: "nats://h:1", namespace: "ns" });
    expect(busTargetFor({ namespace: "", options: { transporter: "nats://h:2" } } as any, {})).toEqual({ natsUrl: "nats://h:2", namespace: "" });
    expect(() => busTargetFor({ namespace: "", options: { transporter: "redis://h" } } as any, {})).toThrow(/JETSTREAM_URL/);
  });
});
