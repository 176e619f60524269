/**
 * gateway — the REST face of the system (DESIGN.md §6), moleculer-web.
 *
 *   /api/v1/*            every action with a `rest` route (auto-aliased), bearer auth, role check
 *   /api/openapi.json    OpenAPI 3 generated from the actions' routes and params
 *   /health              liveness of this node
 *   /ready               this node's services started and every registered service's routes served;
 *                        the rest of the cluster in the body (shared/runtime/readiness.ts)
 *   /metrics/prometheus  this node's metrics, Prometheus text format
 *   /dashboard           the portfolio dashboard page (shared/runtime/dashboard.ts, dashboard/)
 */
import type { Context, ServiceSchema } from "moleculer";
import type { IncomingMessage, ServerResponse } from "node:http";
import ApiGateway from "moleculer-web";
import OpenApiMixin from "moleculer-auto-openapi";
import { readConfig } from "../shared/config";
import { isAllowed, parseAuthTokens, hashToken, type Principal, type Role } from "../shared/auth/roles";
import { looksLikeJwt, oidcVerifier } from "../shared/auth/jwt";
import { ForbiddenError, UnauthorizedError } from "../shared/errors";
import { errorBody } from "../shared/http/error-body";
import { logAccess } from "../shared/runtime/access-log";
import { dashboardRoute } from "../shared/runtime/dashboard";
import { prometheusText } from "../shared/runtime/prometheus";
import { nodeReadiness, unservedRequest, writeUnserved } from "../shared/runtime/readiness";

type Req = IncomingMessage & { $action?: { name: string; roles?: readonly Role[] }; $ctx?: Context; parsedUrl?: string };

const config = readConfig();

const GatewayService: ServiceSchema<any> = {
  name: "gateway",
  mixins: [ApiGateway, OpenApiMixin],

  settings: {
    port: config.port,
    ip: process.env.GATEWAY_HOST ?? "0.0.0.0",
    // One access line per request (httpHandler below) instead of moleculer-web's two or three.
    logRequest: "debug",
    logResponse: "debug",
    logRequestParams: null,
    logRouteRegistration: "debug",
    routes: [
      {
        path: "/api/v1",
        autoAliases: true,
        // Every service's REST actions, never the gateway's own or the broker's internals.
        whitelist: [/^(?!gateway\.|\$)/],
        mappingPolicy: "restrict",
        authentication: true,
        authorization: true,
        bodyParsers: { json: { strict: true, limit: "1MB" }, urlencoded: false },
        callOptions: { timeout: 30_000 },
        onError(this: any, req: Req, res: ServerResponse, err: Error) {
          if (!this.answerUnserved(req, res, err)) this.sendErrorBody(req, res, err);
        },
      },
      {
        path: "/api",
        authentication: false,
        mappingPolicy: "restrict",
        aliases: { "GET /openapi.json": "gateway.generateDocs" },
      },
      dashboardRoute(),
      {
        path: "/",
        authentication: false,
        mappingPolicy: "restrict",
        aliases: {
          "GET /health": "gateway.live",
          "GET /ready": "gateway.ready",
          "GET /metrics/prometheus": "gateway.prometheus",
        },
      },
    ],
    onError(this: any, req: Req, res: ServerResponse, err: Error) {
      this.sendErrorBody(req, res, err);
    },
    // moleculer-auto-openapi settings: one document for the whole REST surface.
    schemaPath: "/api/openapi.json",
    uiPath: "/api/openapi/ui",
    collectOnlyFromWebServices: ["gateway"],
    commonPathItemObjectResponses: {
      400: { description: "Validation error: `error.data.fields` names every bad field" },
      401: { description: "Missing or invalid bearer token" },
      403: { description: "The token's role may not call this route" },
      404: { description: "Not found" },
      409: { description: "State conflict or idempotency key reused with a different body" },
      422: { description: "A business rule refused the request" },
    },
    openapi: {
      openapi: "3.0.3",
      info: { title: "Loan servicing & portfolio platform", version: "1.0.0", description: "All money and rates are decimal strings; dates are ISO dates." },
      servers: [{ url: "/" }],
      security: [{ bearerAuth: [] }],
      components: { securitySchemes: { bearerAuth: { type: "http", scheme: "bearer" } }, schemas: {}, responses: {} },
      tags: [],
      paths: {},
    },
  },

  actions: {
    live: {
      handler(this: any) {
        return { status: "ok", node: this.broker.nodeID, uptime_s: Math.round(process.uptime()) };
      },
    },
    ready: {
      async handler(this: any, ctx: Context<unknown, { $statusCode?: number }>) {
        const report = await nodeReadiness(this.broker);
        if (!report.ready) ctx.meta.$statusCode = 503;
        return report;
      },
    },
    prometheus: {
      handler(this: any, ctx: Context<unknown, { $responseType?: string }>) {
        ctx.meta.$responseType = "text/plain; version=0.0.4; charset=utf-8";
        return prometheusText(this.broker) ?? "";
      },
    },
  },

  methods: {
    /** Every HTTP request enters here: one access line when it is done (shared/runtime/access-log.ts). */
    httpHandler(this: any, req: Req, res: ServerResponse, next?: unknown) {
      logAccess(req, res, this.accessLogger, config.logFormat);
      return ApiGateway.methods!.httpHandler.call(this, req, res, next);
    },
    /** moleculer-web found no route: a 503 naming the service when its owner is absent or starting. */
    send404(this: any, req: Req, res: ServerResponse) {
      if (!this.answerUnserved(req, res)) ApiGateway.methods!.send404.call(this, req, res);
    },
    /** Takes the request when its path belongs to a service not served now: 401 without a valid token, else 503 naming it. */
    answerUnserved(this: any, req: Req, res: ServerResponse, err?: any): boolean {
      if (err && Number(err.code) !== 503 && err.name !== "ServiceNotFoundError") return false;
      const unserved = unservedRequest(this, req);
      if (!unserved) return false;
      Promise.resolve(this.authenticate(req.$ctx, undefined, req)).then(
        () => writeUnserved(res, unserved, req.$ctx?.requestID ?? undefined),
        (authErr: Error) => this.sendErrorBody(req, res, authErr),
      );
      return true;
    },
    /** Bearer token → principal on ctx.meta.user: a static AUTH_TOKENS token, else an OIDC JWT; 401 when neither. */
    async authenticate(this: any, _ctx: Context, _route: unknown, req: Req): Promise<Principal> {
      const header = req.headers.authorization ?? "";
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match) throw new UnauthorizedError();
      const principal = this.tokens.get(hashToken(match[1]));
      if (principal) return principal;
      if (this.jwt && looksLikeJwt(match[1])) return this.jwt.verify(match[1]);
      throw new UnauthorizedError("unknown bearer token");
    },
    /** The action's declared `roles` decide; an action that declares none is not callable. */
    authorize(this: any, ctx: Context<unknown, { user?: Principal }>, _route: unknown, req: Req): void {
      const user = ctx.meta.user;
      const action = req.$action;
      if (!user) throw new UnauthorizedError();
      if (!action || !isAllowed(user, action.roles)) {
        throw new ForbiddenError(`role ${user.role} may not call ${action?.name ?? "this route"}`);
      }
    },
    sendErrorBody(this: any, req: Req, res: ServerResponse, err: any) {
      const requestId = req.$ctx?.requestID ?? undefined;
      const { status, body } = errorBody(err, requestId);
      if (status >= 500) this.logger.error(`request ${requestId ?? "-"} failed:`, err);
      res.setHeader("Content-Type", "application/json; charset=utf-8");
      if (requestId) res.setHeader("X-Request-Id", requestId);
      res.writeHead(status);
      res.end(JSON.stringify(body));
    },
  },

  created(this: any) {
    this.accessLogger = this.broker.getLogger("access");
    // Tests and embedded starts may pass tokens in settings; otherwise AUTH_TOKENS and OIDC_*.
    this.jwt = oidcVerifier(this.settings.oidc ?? config.oidc);
    const tokens: string = this.settings.authTokens ?? config.authTokens;
    // With an identity provider, no static tokens (and no development token) unless AUTH_TOKENS names some.
    this.tokens = tokens || !this.jwt ? parseAuthTokens(tokens, config.nodeEnv) : new Map();
  },
};

export default GatewayService;
