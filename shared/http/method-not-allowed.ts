/**
 * 405 instead of 404 when the path is known and only the method is wrong (issue 7): moleculer-web
 * answers 404 for any unmatched (method, path); the gateway asks here which methods the path has.
 */
import { MethodNotAllowedError } from "../errors";

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;

interface AliasResolver {
  resolveAlias(url: string, method: string): unknown;
}

/** The methods some alias of the gateway answers for `url` (a path without its query). */
export function allowedMethods(gateway: AliasResolver, url: string): string[] {
  const path = url.length > 1 && url.endsWith("/") ? url.slice(0, -1) : url;
  return METHODS.filter((m) => Boolean(gateway.resolveAlias(path, m)));
}

/** A 405 for a known path, or undefined when the path itself is unknown (a real 404). */
export function methodNotAllowed(gateway: AliasResolver, method: string | undefined, url: string): MethodNotAllowedError | undefined {
  const allow = allowedMethods(gateway, url);
  if (!allow.length) return undefined;
  return new MethodNotAllowedError(method ?? "this method", allow);
}
