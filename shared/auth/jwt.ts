/**
 * OIDC / JWT bearer tokens (issue 13 point 5), beside the static AUTH_TOKENS: a token signed by
 * the identity provider, verified with jose against its JWKS (fetched from OIDC_JWKS_URL, cached,
 * refetched when a token names a key id it has not seen — so the provider can rotate keys), with
 * the issuer and audience fixed by configuration. The caller's role comes from a claim
 * (OIDC_ROLES_CLAIM, default `roles`): the most privileged role of this system it names; an
 * investor's id from OIDC_INVESTOR_CLAIM (default `investor_id`).
 */
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from "jose";
import { Errors } from "moleculer";
import type { OidcConfig } from "../config";
import { ForbiddenError, UnauthorizedError } from "../errors";
import { ROLES, tokenFingerprint, type Principal, type Role } from "./roles";

/** Most privileged first: a token naming several roles acts with the first it holds. */
const PRECEDENCE: readonly Role[] = ["admin", "servicer", "analyst", "investor"];

/** Signature algorithms an identity provider uses; symmetric ones (HS*) are never accepted. */
const ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"];

export interface JwtVerifier {
  /** The principal a valid token stands for; 401 when the token is not valid, 403 when it has no role here. */
  verify(token: string): Promise<Principal>;
}

/** A compact JWS: three base64url parts. Static tokens are never shaped like this in practice. */
export function looksLikeJwt(token: string): boolean {
  return /^[\w-]+\.[\w-]+\.[\w-]+$/.test(token);
}

/** The verifier for the configured provider, or undefined when OIDC is not configured. */
export function oidcVerifier(config: OidcConfig, keys?: JWTVerifyGetKey): JwtVerifier | undefined {
  if (!config.jwksUrl && !keys) return undefined;
  const jwks = keys ?? createRemoteJWKSet(new URL(config.jwksUrl), { timeoutDuration: 5_000, cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 });
  return {
    async verify(token: string): Promise<Principal> {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, jwks, {
          issuer: config.issuer,
          audience: config.audience,
          algorithms: ALGORITHMS,
          clockTolerance: 30,
          requiredClaims: ["exp"],
        }));
      } catch (err) {
        throw refusal(err, config);
      }
      return principalFrom(payload, config);
    },
  };
}

/** Claims → principal; exported for unit tests. */
export function principalFrom(payload: JWTPayload, config: Pick<OidcConfig, "rolesClaim" | "investorClaim">): Principal {
  const named = rolesIn(claimAt(payload, config.rolesClaim));
  const role = PRECEDENCE.find((r) => named.includes(r));
  const who = typeof payload.sub === "string" && payload.sub ? payload.sub : undefined;
  if (!role) {
    throw new ForbiddenError(`the token's ${config.rolesClaim} claim names no role of this system (${ROLES.join(", ")})`);
  }
  const principal: Principal = { role, token_id: who ? `oidc:${who}` : `oidc:${tokenFingerprint(JSON.stringify(payload))}` };
  if (role === "investor") {
    const investorId = claimAt(payload, config.investorClaim);
    if (typeof investorId !== "string" || !investorId) {
      throw new ForbiddenError(`an investor token needs the ${config.investorClaim} claim`);
    }
    principal.investor_id = investorId;
  }
  return principal;
}

/** A claim by dotted path (`realm_access.roles`), as identity providers nest them. */
function claimAt(payload: JWTPayload, path: string): unknown {
  return path.split(".").reduce<unknown>((node, key) => (node && typeof node === "object" ? (node as Record<string, unknown>)[key] : undefined), payload);
}

/** A roles claim is an array of names or one string of names separated by spaces or commas. */
function rolesIn(claim: unknown): string[] {
  if (Array.isArray(claim)) return claim.filter((r): r is string => typeof r === "string");
  if (typeof claim === "string") return claim.split(/[\s,]+/).filter(Boolean);
  return [];
}

/** What the caller is told: why its token is refused, never key material. */
function refusal(err: unknown, config: OidcConfig): Error {
  if (err instanceof joseErrors.JWTExpired) return new UnauthorizedError("the token has expired");
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === "aud") return new UnauthorizedError(`the token is not for this audience (${config.audience})`);
    if (err.claim === "iss") return new UnauthorizedError(`the token was not issued by ${config.issuer}`);
    return new UnauthorizedError(`the token's ${err.claim} claim is not valid`);
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed || err instanceof joseErrors.JWKSNoMatchingKey) {
    return new UnauthorizedError("the token's signature does not match the identity provider's keys");
  }
  if (err instanceof joseErrors.JWKSTimeout || !(err instanceof joseErrors.JOSEError)) {
    // The provider's keys could not be fetched: not the caller's fault.
    return new Errors.MoleculerRetryableError("the identity provider's keys are unavailable", 503, "SERVICE_UNAVAILABLE");
  }
  return new UnauthorizedError("the token is not valid");
}
