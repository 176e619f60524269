/**
 * A 201 answer names what it created (RFC 9110 §15.3.2): the `Location` header, set through
 * moleculer-web's `$location` meta. Paths are the public ones, under the gateway's /api/v1 route.
 */
export const API_ROOT = "/api/v1";

export function created(ctx: { meta: object }, path: string): void {
  const meta = ctx.meta as { $statusCode?: number; $location?: string };
  meta.$statusCode = 201;
  meta.$location = `${API_ROOT}${path}`;
}
