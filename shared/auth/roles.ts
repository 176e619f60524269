/**
 * Roles and bearer tokens (DESIGN.md §6). Each REST action declares which roles may call it
 * (`roles` on the action schema); the gateway refuses REST actions that declare none.
 */
import { createHash } from "node:crypto";

export const ROLES = ["admin", "servicer", "analyst", "investor"] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  role: Role;
  /** Set for investor tokens: the investor whose portfolios and loans the caller may read. */
  investor_id?: string;
  /** A short, non-secret fingerprint of the token for audit trails (never the token itself). */
  token_id: string;
}

declare module "moleculer" {
  interface ActionSchema {
    /** Roles allowed to call this action over REST. admin is always allowed. */
    roles?: readonly Role[];
  }
}

/** Who may call what. admin is implied everywhere; named so a route's policy reads as a word. */
export const Access = {
  /** Program/product/rate configuration, scheduler backfills. */
  ADMIN: ["admin"],
  /** Loans, payments, portfolios: servicing operations. */
  SERVICING: ["admin", "servicer"],
  /** Read-only views for staff. */
  STAFF_READ: ["admin", "servicer", "analyst"],
  /** Read-only views an investor may also see, scoped by the owning service to its assignments. */
  READ_WITH_INVESTOR: ["admin", "servicer", "analyst", "investor"],
  /** Reporting: metrics and tapes. */
  REPORTING: ["admin", "analyst"],
} as const satisfies Record<string, readonly Role[]>;

/** The token that works when AUTH_TOKENS is unset outside production; documented in README.md. */
export const DEV_TOKEN = "dev-admin-token";

export function tokenFingerprint(token: string): string {
  return createHash("sha256").update(token).digest("hex").slice(0, 12);
}

/**
 * Parses `token:role,token:role,token:investor:<investor_id>`. Tokens are kept by their SHA-256
 * so lookups do not compare secrets character by character.
 */
export function parseAuthTokens(raw: string, nodeEnv: string): Map<string, Principal> {
  const table = new Map<string, Principal>();
  const entries = raw.split(",").map((s) => s.trim()).filter(Boolean);
  if (!entries.length) {
    if (nodeEnv === "production") throw new Error("AUTH_TOKENS must be set in production");
    table.set(hashToken(DEV_TOKEN), { role: "admin", token_id: tokenFingerprint(DEV_TOKEN) });
    return table;
  }
  for (const entry of entries) {
    const [token, role, investorId] = entry.split(":");
    if (!token || !(ROLES as readonly string[]).includes(role ?? "")) {
      throw new Error(`AUTH_TOKENS entry "${token ? token.slice(0, 4) + "…" : entry}" needs a role from ${ROLES.join("|")}`);
    }
    if (role === "investor" && !investorId) throw new Error("investor tokens need an id: token:investor:<investor_id>");
    table.set(hashToken(token), {
      role: role as Role,
      investor_id: role === "investor" ? investorId : undefined,
      token_id: tokenFingerprint(token),
    });
  }
  return table;
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export function isAllowed(principal: Principal, allowed: readonly Role[] | undefined): boolean {
  if (principal.role === "admin") return true;
  return !!allowed && allowed.includes(principal.role);
}
