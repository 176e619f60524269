import { randomBytes } from "node:crypto";
import { maskLastFour, open, parseKeyRing, seal } from "../../../shared/crypto/field-encryption";

const key = () => randomBytes(32).toString("base64");

describe("field encryption (AES-256-GCM with key ids)", () => {
  it("seals without plaintext and opens with the record's key", () => {
    const ring = parseKeyRing(`k1:${key()}`, "", "production");
    const sealed = seal(ring, { account_number: "000123456789" }, "inv-1");
    expect(sealed.kid).toBe("k1");
    expect(JSON.stringify(sealed)).not.toContain("123456789");
    expect(open(ring, sealed, "inv-1")).toEqual({ account_number: "000123456789" });
  });

  it("keeps records sealed under an old key readable after rotation; new ones use the active key", () => {
    const k1 = key();
    const before = parseKeyRing(`k1:${k1}`, "k1", "production");
    const old = seal(before, { iban: "DE89370400440532013000" }, "inv-1");
    const after = parseKeyRing(`k1:${k1},k2:${key()}`, "k2", "production");
    expect(open(after, old, "inv-1")).toEqual({ iban: "DE89370400440532013000" });
    expect(seal(after, { iban: "x" }, "inv-1").kid).toBe("k2");
    const withoutK1 = parseKeyRing(`k2:${key()}`, "", "production");
    expect(() => open(withoutK1, old, "inv-1")).toThrow(/no key "k1"/);
  });

  it("refuses a record moved to another investor or altered", () => {
    const ring = parseKeyRing("", "", "development");
    const sealed = seal(ring, { account_number: "1234" }, "inv-1");
    expect(() => open(ring, sealed, "inv-2")).toThrow();
    expect(() => open(ring, { ...sealed, ct: Buffer.from("tampered").toString("base64") }, "inv-1")).toThrow();
  });

  it("uses the documented dev key outside production and refuses to run without keys in production", () => {
    expect(parseKeyRing("", "", "development").activeKid).toBe("dev");
    expect(() => parseKeyRing("", "", "production")).toThrow(/INVESTOR_DATA_KEYS must be set/);
    expect(() => parseKeyRing("k1:short", "", "development")).toThrow(/32 bytes/);
    expect(() => parseKeyRing(`k1:${key()}`, "k9", "development")).toThrow(/k9/);
  });

  it("masks to the last four", () => {
    expect(maskLastFour("000123456789")).toBe("••••6789");
    expect(maskLastFour("12 34 56")).toBe("••••3456");
    expect(maskLastFour("123")).toBe("•••");
  });
});
