/**
 * Investors' bank details under key rotation, through the real service: records sealed under
 * key k1 stay readable once k2 is the active key, and an edit re-seals them under k2.
 */
import { randomBytes } from "node:crypto";
import type { ServiceBroker } from "moleculer";
import { startTestMongo, uniqueDbUrl, type RunningMongo } from "../../support/mongo";
import { startNode } from "../../support/system";

let mongo: RunningMongo;
let mongoUrl: string;
const k1 = `k1:${randomBytes(32).toString("base64")}`;
const k2 = `k2:${randomBytes(32).toString("base64")}`;
const admin = { meta: { user: { role: "admin", token_id: "t" } } } as const;

const node = (dataKeys: string, dataKeyId: string): Promise<ServiceBroker> =>
  startNode({ nodeID: `inv-${dataKeyId}`, services: ["investors"], mongoUrl, settings: { investors: { dataKeys, dataKeyId } } });

beforeAll(async () => {
  mongo = await startTestMongo();
  mongoUrl = uniqueDbUrl(mongo.url, "investor_keys");
});
afterAll(async () => {
  await mongo?.stop();
});

it("keeps old records readable after rotating to a new key, and re-seals on edit", async () => {
  const before = await node(k1, "k1");
  const created: any = await before.call("investors.createInvestor", { id: "inv-rot", name: "Rotating Fund", investor_type: "fund", bank_details: { iban: "DE89370400440532013000" } }, admin);
  expect(created.bank_details).toEqual({ iban: "••••3000" });
  const raw = async (b: ServiceBroker) => (b.getLocalService("investors") as any).db.collection("investors").findOne({ _id: "inv-rot" });
  expect((await raw(before)).bank_details_sealed.kid).toBe("k1");
  expect(JSON.stringify(await raw(before))).not.toContain("370400440532013000");
  await before.stop();

  const after = await node(`${k1},${k2}`, "k2");
  try {
    const read: any = await after.call("investors.getInvestor", { id: "inv-rot" }, admin);
    expect(read).toMatchObject({ bank_details: { iban: "••••3000" }, bank_details_key_id: "k1" });
    const edited: any = await after.call("investors.updateInvestor", { id: "inv-rot", bank_details: { iban: "GB29NWBK60161331926819" }, version: 1 }, admin);
    expect(edited).toMatchObject({ bank_details: { iban: "••••6819" }, bank_details_key_id: "k2", version: 2 });
    expect((await raw(after)).bank_details_sealed.kid).toBe("k2");
  } finally {
    await after.stop();
  }
});
