import { ObjectId } from "mongodb";
import { GroupCall, GroupCommit, GroupRead } from "../../../services/loans/group-commit";

function deferred() {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  return { gate, release };
}

describe("GroupCommit", () => {
  it("writes alone when idle, and what arrives during a write together in the next, in arrival order", async () => {
    const writes: number[][] = [];
    const first = deferred();
    const g = new GroupCommit<number>(async (items) => {
      writes.push(items);
      if (writes.length === 1) await first.gate;
    });
    const a = g.add([1]);
    const rest = [g.add([2, 3]), g.add([4]), g.add([]), g.add(undefined)];
    expect(writes).toEqual([[1]]);
    first.release();
    await Promise.all([a, ...rest]);
    expect(writes).toEqual([[1], [2, 3, 4]]);
  });

  it("settles each caller with its own batch: a failed write fails only the callers in it", async () => {
    const first = deferred();
    let n = 0;
    const g = new GroupCommit<string>(async (items) => {
      n++;
      if (n === 1) await first.gate;
      if (items.includes("bad")) throw new Error("write failed");
    });
    const ok1 = g.add(["a"]);
    const bad = g.add(["bad"]);
    const sameBatch = g.add(["b"]);
    first.release();
    await expect(ok1).resolves.toBeUndefined();
    await expect(bad).rejects.toThrow("write failed");
    await expect(sameBatch).rejects.toThrow("write failed");
    await expect(g.add(["c"])).resolves.toBeUndefined();
  });

  it("splits a queue longer than maxItems, never splitting one caller's items", async () => {
    const writes: number[][] = [];
    const first = deferred();
    const g = new GroupCommit<number>(async (items) => {
      writes.push(items);
      if (writes.length === 1) await first.gate;
    }, 3);
    const all = [g.add([0]), g.add([1, 2]), g.add([3]), g.add([4, 5, 6, 7])];
    first.release();
    await Promise.all(all);
    expect(writes).toEqual([[0], [1, 2, 3], [4, 5, 6, 7]]);
  });
});

describe("GroupRead", () => {
  it("reads the ids asked during a read in one query; each caller gets its document (its own copy), or null", async () => {
    const queries: string[][] = [];
    const first = deferred();
    const store: Record<string, { _id: string; n: number }> = { a: { _id: "a", n: 1 }, b: { _id: "b", n: 2 } };
    const r = new GroupRead<string, { _id: string; n: number }>(async (ids) => {
      queries.push(ids);
      if (queries.length === 1) await first.gate;
      return ids.filter((id) => store[id]).map((id) => ({ ...store[id] }));
    });
    const x = r.get("a");
    const [b1, b2, missing] = [r.get("b"), r.get("b"), r.get("zz")];
    first.release();
    expect(await x).toEqual({ _id: "a", n: 1 });
    const [d1, d2] = await Promise.all([b1, b2]);
    expect(d1).toEqual({ _id: "b", n: 2 });
    expect(d2).toEqual(d1);
    expect(d2).not.toBe(d1);
    expect(await missing).toBeNull();
    expect(queries).toEqual([["a"], ["b", "zz"]]);
  });

  it("a second caller's copy keeps ObjectIds and Dates", async () => {
    const _id = new ObjectId();
    const at = new Date("2026-01-02T03:04:05Z");
    const first = deferred();
    let calls = 0;
    const r = new GroupRead<ObjectId, { _id: ObjectId; at: Date }>(async (ids) => {
      if (++calls === 1) await first.gate;
      return ids.map((id) => ({ _id: id, at }));
    });
    const warm = r.get(new ObjectId());
    const [a, b] = [r.get(_id), r.get(_id)];
    first.release();
    await warm;
    const [da, db] = await Promise.all([a, b]);
    expect(db).not.toBe(da);
    expect(db!._id).toBeInstanceOf(ObjectId);
    expect(String(db!._id)).toBe(String(_id));
    expect(db!.at).toBeInstanceOf(Date);
    expect(db!.at.getTime()).toBe(at.getTime());
  });

  it("asks after the caller: a read never answers from a query that started before it was asked", async () => {
    let value = 1;
    const first = deferred();
    let calls = 0;
    const r = new GroupRead<string, { _id: string; v: number }>(async (ids) => {
      const seen = value;
      if (++calls === 1) await first.gate;
      return ids.map((id) => ({ _id: id, v: seen }));
    });
    const early = r.get("k");
    value = 2; // written after the first query started
    const late = r.get("k");
    first.release();
    expect((await early)!.v).toBe(1);
    expect((await late)!.v).toBe(2);
  });
});

describe("GroupCall", () => {
  it("answers each caller its own result from one write of the items asked during the one before", async () => {
    const writes: number[][] = [];
    const first = deferred();
    const g = new GroupCall<number, boolean>(async (items) => {
      writes.push(items);
      if (writes.length === 1) await first.gate;
      return items.map((n) => n % 2 === 0);
    });
    const calls = [g.call(2), g.call(3), g.call(4), g.call(5)];
    first.release();
    expect(await Promise.all(calls)).toEqual([true, false, true, false]);
    expect(writes).toEqual([[2], [3, 4, 5]]);
  });

  it("fails every caller of a write that failed, and goes on with the next", async () => {
    const first = deferred();
    let n = 0;
    const g = new GroupCall<string, string>(async (items) => {
      if (++n === 1) await first.gate;
      if (n === 2) throw new Error("bulk failed");
      return items.map((s) => s.toUpperCase());
    });
    const a = g.call("a");
    const [b, c] = [g.call("b"), g.call("c")];
    first.release();
    expect(await a).toBe("A");
    await expect(b).rejects.toThrow("bulk failed");
    await expect(c).rejects.toThrow("bulk failed");
    expect(await g.call("d")).toBe("D");
  });
});
