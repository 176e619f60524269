/**
 * The embedded wire server (mongo-java-server's memory backend) updates a stored document in
 * place and encodes a query's reply after the collection's lock is released: without the copy its
 * launcher takes, a read running beside an update could return a document half old and half new
 * (a loan's new version with its old balances), and a version-guarded write planned on it would
 * overwrite the update before it — a lost payment. MongoDB returns each document as of one
 * moment; so must the embedded server.
 *
 * Its library also created a collection and built an index without the locks its writes take: a
 * model's collection and indexes being created (mongoose does so on its own when a model is
 * defined) beside the first inserts could make two collections of one name — the documents in the
 * first gone with it — or fail the insert. That is how the durability test once found its 64
 * seeded counters missing and counted 0 of 5,000 events.
 */
import { MongoClient } from "mongodb";
import { startJavaWireServer } from "../../shared/runtime/mongo-server";

const FIELDS = 40;

test("a read beside updates of the same document sees it whole: every field from one update", async () => {
  const server = await startJavaWireServer();
  const [writer, reader] = await Promise.all([MongoClient.connect(server.url), MongoClient.connect(server.url)]);
  try {
    const doc = (n: number) => Object.fromEntries([...Array.from({ length: FIELDS }, (_, i) => [`f${i}`, `value ${n} of field ${i}`]), ["version", n]]);
    const w = writer.db("isolation").collection("docs");
    const r = reader.db("isolation").collection("docs");
    await w.insertOne({ _id: "loan" as any, ...doc(0) });
    let done = false;
    const updates = (async () => {
      for (let n = 1; n <= 1500; n++) await w.updateOne({ _id: "loan" as any }, { $set: doc(n) });
      done = true;
    })();
    const torn: string[] = [];
    let reads = 0;
    const readLoop = async () => {
      while (!done) {
        const [d] = await r.find({ _id: { $in: ["loan"] } } as any).toArray();
        reads++;
        const n = d.version as number;
        const off = Array.from({ length: FIELDS }, (_, i) => `f${i}`).filter((k) => d[k] !== `value ${n} of field ${k.slice(1)}`);
        if (off.length) torn.push(`version ${n}: ${off.length} fields from another update`);
      }
    };
    await Promise.all([updates, readLoop(), readLoop(), readLoop()]);
    expect(reads).toBeGreaterThan(100);
    expect(torn).toEqual([]);
  } finally {
    await Promise.all([writer.close(), reader.close()]);
    await server.stop();
  }
}, 120_000);

test("a collection created and indexed beside its first inserts keeps every document", async () => {
  const server = await startJavaWireServer();
  const clients = await Promise.all([0, 1, 2, 3].map(() => MongoClient.connect(server.url)));
  try {
    const db = (k: number) => clients[k].db("creation");
    const wrong: string[] = [];
    for (let round = 0; round < 200; round++) {
      const name = `c${round}`;
      await Promise.all([
        db(0).createCollection(name).catch(() => undefined), // "already exists" is a fair answer
        db(1).collection(name).createIndex({ x: 1 }, { unique: true, sparse: true }),
        ...[2, 3].map((k) => db(k).collection(name).insertMany([{ k }, { k }]).catch((e: Error) => wrong.push(`${name}: insert failed: ${e.message}`))),
      ]);
      const n = await db(0).collection(name).countDocuments();
      if (n !== 4) wrong.push(`${name}: ${n} of 4 documents`);
    }
    expect(wrong).toEqual([]);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await server.stop();
  }
}, 120_000);
