/**
 * Issue 13 point 5: OIDC / JWT bearer tokens beside AUTH_TOKENS. A locally generated key set is
 * served on loopback as the identity provider's JWKS; the gateway verifies tokens against it with
 * the configured issuer, audience and roles claim.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { ServiceBroker } from "moleculer";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from "jose";
import { apiClient, gatewayUrl, startNode, TEST_TOKENS as T, waitForRoutes } from "../support/system";
import { principalFrom } from "../../shared/auth/jwt";

const ISSUER = "https://id.example.test/realms/loans";
const AUDIENCE = "loan-platform";

let jwks: http.Server;
let jwksFetches = 0;
let node: ServiceBroker;
let api: ReturnType<typeof apiClient>;
let signingKey: CryptoKey;
let strangerKey: CryptoKey;

/** A test service behind the gateway that answers who the caller is. */
const probe = {
  name: "probe",
  settings: { rest: "/probe" },
  actions: {
    whoami: { rest: "GET /whoami", roles: ["servicer", "analyst", "investor"], handler: (ctx: any) => ctx.meta.user },
    configure: { rest: "POST /configure", roles: ["admin"], handler: () => ({ ok: true }) },
  },
};

beforeAll(async () => {
  const provider = await generateKeyPair("RS256", { extractable: true });
  const stranger = await generateKeyPair("RS256", { extractable: true });
  signingKey = provider.privateKey;
  strangerKey = stranger.privateKey;
  const publicJwk = { ...(await exportJWK(provider.publicKey)), kid: "key-1", alg: "RS256", use: "sig" };
  jwks = http.createServer((req, res) => {
    jwksFetches++;
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ keys: [publicJwk] }));
  });
  await new Promise<void>((r) => jwks.listen(0, "127.0.0.1", r));
  const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/certs`;
  node = await startNode({
    nodeID: "oidc",
    services: ["gateway"],
    mongoUrl: "mongodb://unused",
    settings: { gateway: { oidc: { jwksUrl, issuer: ISSUER, audience: AUDIENCE, rolesClaim: "realm_access.roles", investorClaim: "investor_id" } } },
    extraServices: [probe as any],
  });
  await waitForRoutes(node, ["GET /api/v1/probe/whoami", "POST /api/v1/probe/configure"]);
  api = apiClient(gatewayUrl(node));
});

afterAll(async () => {
  await node?.stop();
  jwks?.close();
});

function token(claims: JWTPayload & { roles?: unknown }, opts: { key?: CryptoKey; audience?: string; issuer?: string; expiresIn?: string | number } = {}) {
  const { roles, ...rest } = claims;
  return new SignJWT({ ...rest, ...(roles !== undefined ? { realm_access: { roles } } : {}) })
    .setProtectedHeader({ alg: "RS256", kid: "key-1" })
    .setIssuer(opts.issuer ?? ISSUER)
    .setAudience(opts.audience ?? AUDIENCE)
    .setSubject(String(claims.sub ?? "user-1"))
    .setIssuedAt()
    .setExpirationTime(opts.expiresIn ?? "5m")
    .sign(opts.key ?? signingKey);
}

const whoami = async (bearer: string) => api("GET", "/api/v1/probe/whoami", { token: bearer });

it("accepts a valid token and takes the role from the configured claim", async () => {
  const r = await whoami(await token({ sub: "alice", roles: ["offline_access", "analyst"] }));
  expect(r.status).toBe(200);
  expect(r.body).toEqual({ role: "analyst", token_id: "oidc:alice" });
  // The role decides what the caller may do: an analyst may not call an admin route.
  const denied = await api("POST", "/api/v1/probe/configure", { token: await token({ sub: "alice", roles: ["analyst"] }), body: {} });
  expect(denied.status).toBe(403);
  const admin = await api("POST", "/api/v1/probe/configure", { token: await token({ sub: "root", roles: ["admin", "analyst"] }), body: {} });
  expect(admin.status).toBe(200);
  expect(jwksFetches).toBeGreaterThan(0);
});

it("gives investor tokens the investor id of their claim, and refuses one without it", async () => {
  const r = await whoami(await token({ sub: "fund-7", roles: ["investor"], investor_id: "inv-7" }));
  expect(r.status).toBe(200);
  expect(r.body).toEqual({ role: "investor", investor_id: "inv-7", token_id: "oidc:fund-7" });
  const noId = await whoami(await token({ sub: "fund-8", roles: ["investor"] }));
  expect(noId.status).toBe(403);
  expect(noId.body.error.message).toMatch(/investor_id/);
});

it("refuses an expired token", async () => {
  const r = await whoami(await token({ sub: "bob", roles: ["servicer"] }, { expiresIn: Math.floor(Date.now() / 1000) - 120 }));
  expect(r.status).toBe(401);
  expect(r.body.error).toMatchObject({ type: "UNAUTHORIZED", message: "the token has expired" });
});

it("refuses a token for another audience or from another issuer", async () => {
  const aud = await whoami(await token({ sub: "bob", roles: ["servicer"] }, { audience: "someone-else" }));
  expect(aud.status).toBe(401);
  expect(aud.body.error.message).toMatch(/audience/);
  const iss = await whoami(await token({ sub: "bob", roles: ["servicer"] }, { issuer: "https://evil.example" }));
  expect(iss.status).toBe(401);
  expect(iss.body.error.message).toMatch(/issued by/);
});

it("refuses a token signed by a key that is not the provider's", async () => {
  const r = await whoami(await token({ sub: "mallory", roles: ["admin"] }, { key: strangerKey }));
  expect(r.status).toBe(401);
  expect(r.body.error.message).toMatch(/signature/);
  // A tampered payload on a genuine token fails the same way.
  const [h, , s] = (await token({ sub: "bob", roles: ["analyst"] })).split(".");
  const forged = Buffer.from(JSON.stringify({ sub: "bob", iss: ISSUER, aud: AUDIENCE, exp: 9_999_999_999, realm_access: { roles: ["admin"] } })).toString("base64url");
  expect((await whoami(`${h}.${forged}.${s}`)).status).toBe(401);
});

it("refuses a token whose roles claim names no role of this system", async () => {
  const r = await whoami(await token({ sub: "carol", roles: ["superuser", "offline_access"] }));
  expect(r.status).toBe(403);
  expect(r.body.error.message).toMatch(/realm_access\.roles claim names no role/);
  expect((await whoami(await token({ sub: "dave" }))).status).toBe(403);
});

it("keeps the static AUTH_TOKENS working beside OIDC, and refuses unknown opaque tokens", async () => {
  expect((await whoami(T.analyst)).body).toMatchObject({ role: "analyst" });
  expect((await whoami("not-a-token")).status).toBe(401);
  expect((await whoami("a.b.c")).status).toBe(401);
});

describe("roles claim", () => {
  const cfg = { rolesClaim: "roles", investorClaim: "investor_id" };
  it("reads an array or a space/comma separated string and takes the most privileged role", () => {
    expect(principalFrom({ sub: "x", roles: ["analyst", "servicer"] }, cfg).role).toBe("servicer");
    expect(principalFrom({ sub: "x", roles: "analyst admin" }, cfg).role).toBe("admin");
    expect(principalFrom({ sub: "x", roles: "investor,analyst" }, cfg).role).toBe("analyst");
    expect(() => principalFrom({ sub: "x", roles: 42 }, cfg)).toThrow(/names no role/);
  });
});
