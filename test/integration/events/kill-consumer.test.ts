/**
 * THE durability test (issue 2 point 9, DESIGN.md §1): thousands of events go through the outbox
 * onto JetStream while a consuming child process applies them; the child is SIGKILLed when about
 * half are applied (no graceful stop: no nak, acks in its socket buffer lost), a new child takes
 * over the same durable, and in the end every event is applied exactly once and none is lost.
 * The redeliveries the crash caused are counted, so the test proves they happened and were
 * absorbed by the idempotent handler.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import mongoose, { type Connection } from "mongoose";
import { connect, type NatsConnection } from "nats";
import { JetStreamBus } from "../../../shared/events/jetstream-bus";
import { processedEventsModel } from "../../../shared/events/idempotency";
import { enqueueOutbox, outboxModel, OutboxRelay } from "../../../shared/events/outbox";
import { durableName } from "../../../shared/events/subjects";
import { BUCKETS, killModels, type KillModels } from "../../support/events/kill-model";
import { quietLogger, waitFor } from "../../support/events/wait";
import { startTestMongo, uniqueDbUrl, type RunningMongo } from "../../support/mongo";
import { startNats, type RunningNats } from "../../support/nats";

const N = 5000;
const CONSUMER = "kill-test";
const SUBJECT = "loan.payment.applied";
const ACK_WAIT_MS = 2000;
const REPO = join(__dirname, "..", "..", "..");

interface Child {
  proc: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

describe("durable events survive a SIGKILLed consumer", () => {
  let mongo: RunningMongo;
  let nats: RunningNats;
  let nc: NatsConnection;
  let conn: Connection;
  let dbUrl: string;
  let bus: JetStreamBus;
  let relay: OutboxRelay | undefined;
  let m: KillModels;
  const children: Child[] = [];

  beforeAll(async () => {
    [mongo, nats] = await Promise.all([startTestMongo(), startNats({ jetstream: true })]);
    dbUrl = uniqueDbUrl(mongo.url, "kill");
    conn = await mongoose.createConnection(dbUrl).asPromise();
    nc = await connect({ servers: nats.url });
    bus = await JetStreamBus.connect({ natsUrl: nats.url, logger: quietLogger });
    m = killModels(conn);
  });
  afterAll(async () => {
    for (const c of children) if (c.proc.exitCode === null) c.proc.kill("SIGKILL");
    await relay?.stop();
    await bus?.close();
    await nc?.close();
    await conn?.close();
    await Promise.all([mongo?.stop(), nats?.stop()]);
  });

  function startChild(): Child {
    const proc = spawn(process.execPath, ["--import", "tsx", "test/support/events/consumer-process.ts"], {
      cwd: REPO,
      env: { ...process.env, NATS_URL: nats.url, MONGO_URL: dbUrl, CONSUMER, SUBJECT, CONCURRENCY: "16", ACK_WAIT_MS: String(ACK_WAIT_MS) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    const keep = (chunk: Buffer) => (out = (out + chunk.toString()).slice(-4000));
    proc.stdout!.on("data", keep);
    proc.stderr!.on("data", keep);
    const exited = new Promise<number | null>((done) => proc.once("exit", (code) => done(code)));
    const child = { proc, output: () => out, exited };
    children.push(child);
    return child;
  }

  /** Waits for `cond`, failing at once (with the child's output) if the child dies. */
  async function whileAlive<T>(child: Child, cond: () => Promise<T>, what: string, timeoutMs: number): Promise<T> {
    return waitFor(
      async () => {
        if (child.proc.exitCode !== null) throw new Error(`consumer exited (${child.proc.exitCode}) while waiting for ${what}:\n${child.output()}`);
        return cond();
      },
      what,
      timeoutMs,
      25,
    );
  }

  it(`applies ${N} events exactly once across a SIGKILL and a restart`, async () => {
    const t0 = Date.now();
    await m.Buckets.insertMany(Array.from({ length: BUCKETS }, (_, k) => ({ _id: `b${k}`, n: 0, ids: [] })));
    const outbox = outboxModel(conn);
    await outbox.createIndexes();

    const first = startChild();
    await whileAlive(first, async () => first.output().includes("ready"), "the first consumer", 20_000);

    // Publish through the outbox, as a service does: write the records, kick the relay each batch.
    relay = new OutboxRelay({ model: outbox, bus, logger: quietLogger, intervalMs: 500, batchSize: 500 });
    relay.start();
    const ids = Array.from({ length: N }, (_, i) => `pay-${String(i).padStart(5, "0")}`);
    for (let i = 0; i < N; i += 250) {
      await Promise.all(ids.slice(i, i + 250).map((id) => enqueueOutbox(outbox, { id, subject: SUBJECT, payload: { amount: "1.00" } })));
      void relay.kick();
    }

    // SIGKILL when about half are applied.
    const atKill = await whileAlive(first, async () => {
      const n = await m.Applied.estimatedDocumentCount();
      return n >= N / 2 ? n : 0;
    }, "half applied", 60_000);
    first.proc.kill("SIGKILL");
    await first.exited;
    const appliedAtKill = await m.Applied.countDocuments();
    const tKill = Date.now();

    // Publish anything the relay has not yet published (it keeps running meanwhile).
    await waitFor(async () => (await outbox.countDocuments({ published: false })) === 0, "outbox drained", 20_000);

    const second = startChild();
    await whileAlive(second, async () => (await m.Applied.countDocuments()) === N, "all applied", 60_000);
    // Settled: every message acked, nothing pending or waiting for redelivery on the durable.
    const jsm = await nc.jetstreamManager();
    const durable = durableName(CONSUMER, SUBJECT);
    await whileAlive(second, async () => {
      const info = await jsm.consumers.info(bus.stream, durable);
      return info.num_pending === 0 && info.num_ack_pending === 0;
    }, "all acked", 10_000);
    second.proc.kill("SIGTERM");
    expect(await second.exited).toBe(0);

    // Exactly N distinct ids applied, none missing.
    const applied = await m.Applied.find({}, { _id: 1 }).lean();
    expect(applied).toHaveLength(N);
    expect(new Set(applied.map((a) => a._id))).toEqual(new Set(ids));
    // The counter moved once per event: nothing doubled.
    const buckets = await m.Buckets.find({}).lean();
    const counted = buckets.reduce((s, b) => s + b.n, 0);
    const bucketIds = buckets.flatMap((b) => b.ids);
    expect(counted).toBe(N);
    expect(bucketIds).toHaveLength(N);
    expect(new Set(bucketIds).size).toBe(N);
    for (const b of buckets) expect(b.ids).toHaveLength(b.n);
    expect(await processedEventsModel(conn).countDocuments({ consumer: CONSUMER })).toBe(N);
    // Every event is in the stream once (outbox republishes were deduped) and none dead-lettered.
    expect((await jsm.streams.info(bus.stream)).state.messages).toBe(N);
    expect(await bus.deadLetters()).toEqual([]);

    // The crash really caused redeliveries, and the idempotent handler absorbed them.
    const redelivered = await m.Redeliveries.find({}).lean();
    const byOutcome = { applied: 0, skipped: 0, "no-op": 0 };
    for (const r of redelivered) byOutcome[r.outcome]++;
    expect(redelivered.length).toBeGreaterThan(0);
    const secondPid = second.proc.pid;
    const appliedBySecond = await m.Applied.countDocuments({ pid: secondPid });

    const report = {
      events: N,
      applied_at_kill: appliedAtKill,
      first_seen_at_kill: atKill,
      applied_by_restarted_consumer: appliedBySecond,
      redelivered_messages: redelivered.length,
      redelivered_outcomes: byOutcome,
      max_delivery: Math.max(...redelivered.map((r) => r.delivery)),
      kill_at_ms: tKill - t0,
      total_ms: Date.now() - t0,
    };
    console.log(`kill-consumer: ${JSON.stringify(report)}`);
    expect(appliedAtKill).toBeGreaterThanOrEqual(N / 2);
    expect(appliedAtKill).toBeLessThan(N);
    // Whatever the first consumer had not applied, the second did.
    expect(appliedBySecond).toBe(N - appliedAtKill);
    // Typically 10-15 s; the generous limits are for a loaded CI machine.
  }, 150_000);
});
