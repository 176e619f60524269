/**
 * gateway — the REST face of the system (DESIGN.md §6), moleculer-web.
 *
 *   /api/v1/*            every action with a `rest` route (auto-aliased), bearer auth, role check
 *   /api/openapi.json    OpenAPI 3 generated from the running routes and their validators
 *   /api/openapi/ui      the interactive API page (Swagger UI, served from this gateway)
 *   /health              liveness of this node
 *   /ready               this node's services started and every registered service's routes served;
 *                        the rest of the cluster in the body (shared/runtime/readiness.ts)
 *   /dashboard           the portfolio dashboard page (shared/runtime/dashboard.ts, dashboard/)
 *
 * Metrics are not on this public port: each node serves them on its internal HEALTH_PORT.
 * Every request passes shared/http/request-guard.ts before anything else reads it.
 */
import type { Context, ServiceSchema } from "moleculer";
import type { IncomingMessage, ServerResponse } from "node:http";
import ApiGateway from "moleculer-web";
import OpenApiMixin from "moleculer-auto-openapi";
import { readConfig } from "../shared/config";
import { isAllowed, parseAuthTokens, hashToken, type Principal, type Role } from "../shared/auth/roles";
import { looksLikeJwt, oidcVerifier } from "../shared/auth/jwt";
import { ForbiddenError, UnauthorizedError } from "../shared/errors";
import { writeErrorResponse } from "../shared/http/error-body";
import { requestGuard } from "../shared/http/request-guard";
import { methodNotAllowed } from "../shared/http/method-not-allowed";
import { gatewayRoutes, openApiInfo } from "../shared/http/gateway-docs";
import { buildOpenApiDocument } from "../shared/http/openapi";
import { openApiPage } from "../shared/http/openapi-ui";
import { logAccess } from "../shared/runtime/access-log";
import { dashboardRoute } from "../shared/runtime/dashboard";
import { nodeReadiness, unservedRequest, writeUnserved } from "../shared/runtime/readiness";

const READINESS_SCHEMA = {
  type: "object",
  required: ["ready", "services"],
  properties: { ready: { type: "boolean" }, node: { type: "string" }, services: { type: "object" }, cluster: { type: "object" } },
};

type Req = IncomingMessage & { $action?: { name: string; roles?: readonly Role[] }; $ctx?: Context; parsedUrl?: string };

const config = readConfig();

const GatewayService: ServiceSchema<any> = {
  name: "gateway",
  mixins: [ApiGateway, OpenApiMixin],

  settings: {
    port: config.port,
    ip: config.gatewayHost,
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
        bodyParsers: false,
        callOptions: { timeout: 30_000 },
        // DESIGN.md §7: a payment's idempotency key may come as a header instead of a body field.
        onBeforeCall(_ctx: Context<unknown, Record<string, unknown>>, _route: unknown, req: Req) {
          const key = req.headers["idempotency-key"];
          if (typeof key === "string") _ctx.meta.idempotencyKey = key;
        },
        onError(this: any, req: Req, res: ServerResponse, err: Error) {
          if (!this.answerUnserved(req, res, err)) this.sendErrorBody(req, res, err);
        },
      },
      {
        path: "/api",
        authentication: false,
        mappingPolicy: "restrict",
        bodyParsers: false,
        aliases: { "GET /openapi.json": "gateway.openapiDocument", "GET /openapi/ui": "gateway.ui", "GET /openapi/assets/:file": "gateway.assets" },
      },
      dashboardRoute(),
      {
        path: "/",
        authentication: false,
        mappingPolicy: "restrict",
        bodyParsers: false,
        aliases: {
          "GET /health": "gateway.live",
          "GET /ready": "gateway.ready",
        },
      },
    ],
    // Size, depth, media type, prototype and operator keys: before any route parses or validates.
    use: [requestGuard()],
    onError(this: any, req: Req, res: ServerResponse, err: Error) {
      this.sendErrorBody(req, res, err);
    },
    // moleculer-auto-openapi serves the UI and its assets; the document is ours (openapiDocument).
    schemaPath: "/api/openapi.json",
    uiPath: "/api/openapi/ui",
    assetsPath: "/api/openapi/assets",
  },

  actions: {
    /** The OpenAPI document, built from the running routes and their validators (shared/http/openapi.ts). */
    openapiDocument: {
      openapi: { summary: "This API's OpenAPI document", response: { type: "object", required: ["openapi", "paths"], properties: { openapi: { type: "string" }, paths: { type: "object" } } } },
      handler(this: any) {
        return buildOpenApiDocument(gatewayRoutes(this), { info: openApiInfo });
      },
    },
    /** The interactive API page, always over this API's own document. */
    ui: {
      handler(this: any, ctx: Context<unknown, { $responseType?: string }>) {
        ctx.meta.$responseType = "text/html; charset=utf-8";
        return openApiPage(this.settings.schemaPath, this.settings.assetsPath);
      },
    },
    live: {
      openapi: { summary: "Liveness of the gateway node", response: { type: "object", required: ["status"], properties: { status: { type: "string" }, node: { type: "string" }, uptime_s: { type: "integer" } } } },
      handler(this: any) {
        return { status: "ok", node: this.broker.nodeID, uptime_s: Math.round(process.uptime()) };
      },
    },
    ready: {
      openapi: { summary: "This node's services started and answering, its routes served", response: READINESS_SCHEMA, responses: { 503: { description: "Not ready: a service of this node is starting or down", schema: READINESS_SCHEMA } } },
      async handler(this: any, ctx: Context<unknown, { $statusCode?: number }>) {
        const report = await nodeReadiness(this.broker);
        if (!report.ready) ctx.meta.$statusCode = 503;
        return report;
      },
    },
  },

  methods: {
    /** Every HTTP request enters here: one access line when it is done (shared/runtime/access-log.ts). */
    httpHandler(this: any, req: Req, res: ServerResponse, next?: unknown) {
      logAccess(req, res, this.accessLogger, config.logFormat);
      return ApiGateway.methods!.httpHandler.call(this, req, res, next);
    },
    /**
     * moleculer-web found no route: 503 naming the service when its owner is absent or starting,
     * 405 with Allow when the path exists under another method, else 404.
     */
    send404(this: any, req: Req, res: ServerResponse) {
      if (this.answerUnserved(req, res)) return;
      this.sendErrorBody(req, res, methodNotAllowed(this, req.method, req.parsedUrl ?? "") ?? { code: 404, type: "NOT_FOUND", message: "not found" });
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
        throw new ForbiddenError(`role ${user.role} may not ${req.method} this route`);
      }
    },
    sendErrorBody(this: any, req: Req, res: ServerResponse, err: any) {
      writeErrorResponse(res, err, req.$ctx?.requestID ?? undefined, (msg, e) => this.logger.error(msg, e));
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
