/**
 * gateway — the REST face of the system (DESIGN.md §6), moleculer-web.
 *
 *   /api/v1/*            every action with a `rest` route (auto-aliased), bearer auth, role check
 *   /api/openapi.json    OpenAPI 3 generated from the running routes and their validators
 *   /api/openapi/ui      the interactive API page (Swagger UI, served from this gateway)
 *   /health              liveness of this node
 *   /ready               every service of the system registered and answering `health`
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
import { ForbiddenError, UnauthorizedError } from "../shared/errors";
import { writeErrorResponse } from "../shared/http/error-body";
import { requestGuard } from "../shared/http/request-guard";
import { methodNotAllowed } from "../shared/http/method-not-allowed";
import { gatewayRoutes, openApiInfo } from "../shared/http/gateway-docs";
import { buildOpenApiDocument } from "../shared/http/openapi";
import { openApiPage } from "../shared/http/openapi-ui";
import { readiness } from "../shared/runtime/readiness";

const READINESS_SCHEMA = { type: "object", required: ["ready", "services"], properties: { ready: { type: "boolean" }, services: { type: "object" } } };

type Req = IncomingMessage & { $action?: { name: string; roles?: readonly Role[] }; $ctx?: Context };

const config = readConfig();

const GatewayService: ServiceSchema<any> = {
  name: "gateway",
  mixins: [ApiGateway, OpenApiMixin],

  settings: {
    port: config.port,
    ip: process.env.GATEWAY_HOST ?? "0.0.0.0",
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
        onError(this: any, req: Req, res: ServerResponse, err: Error) {
          this.sendErrorBody(req, res, err);
        },
      },
      {
        path: "/api",
        authentication: false,
        mappingPolicy: "restrict",
        bodyParsers: false,
        aliases: { "GET /openapi.json": "gateway.openapiDocument", "GET /openapi/ui": "gateway.ui", "GET /openapi/assets/:file": "gateway.assets" },
      },
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
      openapi: { summary: "Every service registered and answering", response: READINESS_SCHEMA, responses: { 503: { description: "Not ready: some service is missing or down", schema: READINESS_SCHEMA } } },
      async handler(this: any, ctx: Context<unknown, { $statusCode?: number }>) {
        const report = await readiness(this.broker);
        if (!report.ready) ctx.meta.$statusCode = 503;
        return report;
      },
    },
  },

  methods: {
    /** Bearer token → principal on ctx.meta.user; 401 when missing or unknown. */
    authenticate(this: any, _ctx: Context, _route: unknown, req: Req): Principal {
      const header = req.headers.authorization ?? "";
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match) throw new UnauthorizedError();
      const principal = this.tokens.get(hashToken(match[1]));
      if (!principal) throw new UnauthorizedError("unknown bearer token");
      return principal;
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
    /** moleculer-web's "no route": 405 with Allow when the path exists under another method. */
    send404(this: any, req: Req & { parsedUrl?: string }, res: ServerResponse) {
      this.sendErrorBody(req, res, methodNotAllowed(this, req.method, req.parsedUrl ?? "") ?? { code: 404, type: "NOT_FOUND", message: "not found" });
    },
  },

  created(this: any) {
    // Tests and embedded starts may pass tokens in settings; otherwise AUTH_TOKENS.
    this.tokens = parseAuthTokens(this.settings.authTokens ?? config.authTokens, config.nodeEnv);
  },
};

export default GatewayService;
