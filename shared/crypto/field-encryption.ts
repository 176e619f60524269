/**
 * Encryption at rest for sensitive fields (DESIGN.md §9: investors' bank details): AES-256-GCM
 * (node:crypto) under a key named by an id, so keys can rotate: new writes use the active key,
 * and every record names the key that sealed it, so records sealed under an older key stay
 * readable as long as that key is configured.
 *
 * Keys come from configuration: `INVESTOR_DATA_KEYS=kid1:<base64 32 bytes>,kid2:…` and
 * `INVESTOR_DATA_KEY_ID` (the active one; default the last listed). Outside production, with no
 * keys, a development key (`dev`, derived from a public string, documented in README.md) is used;
 * in production the service refuses to start without keys.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

export interface SealedValue {
  /** Key id. */
  kid: string;
  /** 12-byte nonce, base64. */
  iv: string;
  /** 16-byte GCM tag, base64. */
  tag: string;
  /** Ciphertext, base64. */
  ct: string;
}

export interface KeyRing {
  activeKid: string;
  keys: Map<string, Buffer>;
}

/** The documented development key: never secret, refused in production. */
export const DEV_DATA_KEY_ID = "dev";
export function devDataKey(): Buffer {
  return createHash("sha256").update("loan-platform development investor data key").digest();
}

export function parseKeyRing(raw: string, activeKid: string, nodeEnv: string): KeyRing {
  const entries = raw.split(",").map((s) => s.trim()).filter(Boolean);
  if (!entries.length) {
    if (nodeEnv === "production") throw new Error("INVESTOR_DATA_KEYS must be set in production (kid:base64-32-byte-key,…)");
    return { activeKid: DEV_DATA_KEY_ID, keys: new Map([[DEV_DATA_KEY_ID, devDataKey()]]) };
  }
  const keys = new Map<string, Buffer>();
  for (const entry of entries) {
    const at = entry.indexOf(":");
    const kid = at > 0 ? entry.slice(0, at) : "";
    const key = at > 0 ? Buffer.from(entry.slice(at + 1), "base64") : Buffer.alloc(0);
    if (!/^[A-Za-z0-9_.-]{1,32}$/.test(kid) || key.length !== 32) {
      throw new Error(`INVESTOR_DATA_KEYS entry "${kid || "?"}" must be kid:<base64 of 32 bytes>`);
    }
    if (keys.has(kid)) throw new Error(`INVESTOR_DATA_KEYS names key "${kid}" twice`);
    keys.set(kid, key);
  }
  const active = activeKid || [...keys.keys()].at(-1)!;
  if (!keys.has(active)) throw new Error(`INVESTOR_DATA_KEY_ID "${active}" is not among INVESTOR_DATA_KEYS`);
  return { activeKid: active, keys };
}

/** Seals a JSON value under the active key; `aad` binds it to its record (e.g. the investor id). */
export function seal(ring: KeyRing, value: unknown, aad: string): SealedValue {
  const key = ring.keys.get(ring.activeKid)!;
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(aad, "utf8"));
  const ct = Buffer.concat([cipher.update(JSON.stringify(value), "utf8"), cipher.final()]);
  return { kid: ring.activeKid, iv: iv.toString("base64"), tag: cipher.getAuthTag().toString("base64"), ct: ct.toString("base64") };
}

/** Opens a sealed value with the key it names; throws when the key is unknown or the data was altered. */
export function open<T = unknown>(ring: KeyRing, sealed: SealedValue, aad: string): T {
  const key = ring.keys.get(sealed.kid);
  if (!key) throw new Error(`no key "${sealed.kid}" configured to open this record (INVESTOR_DATA_KEYS)`);
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(sealed.iv, "base64"));
  decipher.setAAD(Buffer.from(aad, "utf8"));
  decipher.setAuthTag(Buffer.from(sealed.tag, "base64"));
  const plain = Buffer.concat([decipher.update(Buffer.from(sealed.ct, "base64")), decipher.final()]);
  return JSON.parse(plain.toString("utf8")) as T;
}

/** "••••6789": the last four characters, the rest hidden (DESIGN.md §9: masked in every answer). */
export function maskLastFour(value: string | null | undefined): string | null {
  if (value == null || value === "") return value ?? null;
  const compact = value.replace(/\s+/g, "");
  return compact.length <= 4 ? "•".repeat(compact.length) : `••••${compact.slice(-4)}`;
}
