/**
 * The OpenAPI document of the REST surface, built from what is running (issue 7): every alias the
 * gateway has generated, each with its action's validator schema (shared/http/openapi-schema.ts)
 * and its `openapi` declaration. A route added by any service appears, documented, on its own.
 *
 * An action may declare, beside `rest` and `params`:
 *
 *   openapi: { summary?, status?: 201, response?: <JSON Schema of the success body>, responseType?: "text/plain" }
 *
 * Without `response` the default is a page of objects for a list action (params `limit`/`offset`)
 * and an object otherwise; without `status`, 200 (and 201 too for a POST).
 */
import { isRequired, paramsToSchema, ruleToSchema, type JsonSchema } from "./openapi-schema";
import { IF_MATCH_PATTERN } from "./request-guard";

export interface ActionOpenApi {
  summary?: string;
  description?: string;
  status?: number;
  response?: JsonSchema;
  responseType?: string;
  /** Extra documented statuses (e.g. 503 for /ready). */
  responses?: Record<string, { description: string; schema?: JsonSchema }>;
}

declare module "moleculer" {
  interface ActionSchema {
    /** How the action's route is documented (shared/http/openapi.ts). */
    openapi?: ActionOpenApi;
  }
}

export interface DocumentedRoute {
  method: string;
  /** Full path with `:param` segments, e.g. /api/v1/programs/:id */
  path: string;
  action: { name: string; params?: Record<string, any>; openapi?: ActionOpenApi; roles?: readonly string[] };
  /** Public routes need no bearer token. */
  public: boolean;
}

const ERROR_SCHEMA: JsonSchema = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["type", "message"],
      properties: { type: { type: "string" }, message: { type: "string" }, data: {} },
    },
  },
};

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "Validation error: `error.data.fields` names every bad field",
  401: "Missing or invalid bearer token",
  403: "The token's role may not call this route",
  404: "Not found",
  409: "State conflict, stale version, or an idempotency key reused with a different body",
  413: "Request body too large",
  415: "Request body is not JSON",
  422: "A business rule refused the request",
  428: "A PATCH must carry the version it read (body `version` or If-Match)",
};

/** A page of a list action (shared/db/pagination.ts). */
export function pageSchema(item: JsonSchema = { type: "object" }): JsonSchema {
  return {
    type: "object",
    required: ["items", "total", "limit", "offset"],
    properties: {
      items: { type: "array", items: item },
      total: { type: "integer", minimum: 0 },
      limit: { type: "integer", minimum: 1 },
      offset: { type: "integer", minimum: 0 },
    },
  };
}

/**
 * The response schema of a stored entity from its create fields: each field's type and enum (not
 * its input bounds), with the fields every entity has (id, version, timestamps).
 */
export function entitySchema(fields: Record<string, any>, extra: Record<string, JsonSchema> = {}): JsonSchema {
  const properties: Record<string, JsonSchema> = {
    id: { type: "string" },
    version: { type: "integer", minimum: 1 },
    created_at: { type: "string", format: "date-time" },
    updated_at: { type: "string", format: "date-time" },
  };
  const required = ["id"];
  for (const [key, rule] of Object.entries(fields)) {
    if (key.startsWith("$$")) continue;
    properties[key] = loosen(ruleToSchema(rule));
    if (isRequired(rule)) required.push(key);
  }
  Object.assign(properties, extra);
  return { type: "object", required, properties, additionalProperties: true };
}

/** A schema's shape without input bounds: what a stored value is, not what a request may send. */
function loosen(schema: JsonSchema): JsonSchema {
  const { pattern: _p, minLength: _a, maxLength: _b, minimum: _c, maximum: _d, minItems: _e, maxItems: _f, default: _g, exclusiveMinimum: _h, exclusiveMaximum: _i, ...rest } = schema;
  if (rest.properties) rest.properties = Object.fromEntries(Object.entries(rest.properties).map(([k, v]) => [k, loosen(v as JsonSchema)]));
  if (rest.properties) rest.additionalProperties = true;
  delete rest.required;
  if (rest.items) rest.items = loosen(rest.items);
  if (rest.anyOf) rest.anyOf = rest.anyOf.map(loosen);
  return rest;
}

export interface DocumentOptions {
  info: { title: string; version: string; description?: string };
}

export function buildOpenApiDocument(routes: DocumentedRoute[], opts: DocumentOptions): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  const sorted = [...routes].sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
  const ids = new Set<string>();
  for (const route of sorted) {
    const path = route.path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
    const op = operation(route);
    // One action may serve several routes; operation ids must stay unique.
    for (let n = 2; ids.has(op.operationId); n++) op.operationId = `${route.action.name}_${n}`;
    ids.add(op.operationId);
    (paths[path] ??= {})[route.method.toLowerCase()] = op;
  }
  return {
    openapi: "3.0.3",
    info: opts.info,
    servers: [{ url: "/" }],
    security: [{ bearerAuth: [] }],
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: "http", scheme: "bearer" } },
      schemas: { Error: ERROR_SCHEMA },
    },
  };
}

function operation(route: DocumentedRoute): JsonSchema {
  const { method, action } = route;
  const params = action.params ?? {};
  const pathNames = [...route.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]);
  const inQuery = method === "GET" || method === "DELETE";
  const parameters: JsonSchema[] = pathNames.map((name) => ({
    name,
    in: "path",
    required: true,
    schema: params[name] ? ruleToSchema(params[name]) : { type: "string" },
  }));
  const op: JsonSchema = {
    operationId: action.name,
    summary: action.openapi?.summary ?? action.name,
    tags: [action.name.split(".")[0]],
  };
  if (action.openapi?.description) op.description = action.openapi.description;
  if (inQuery) {
    for (const [name, rule] of Object.entries(params)) {
      if (name.startsWith("$$") || pathNames.includes(name)) continue;
      if (rule && typeof rule === "object" && rule.type === "forbidden") continue;
      parameters.push({ name, in: "query", required: isRequired(rule), schema: ruleToSchema(rule) });
    }
  } else {
    const body = paramsToSchema(params, pathNames);
    // PATCH: the version is required, as body `version` or If-Match (the header is the alternative).
    if (method === "PATCH" && body.properties.version) {
      body.required = [...(body.required ?? []), "version"];
      parameters.push({ name: "If-Match", in: "header", required: false, description: "The version read, instead of body `version`", schema: { type: "string", pattern: IF_MATCH_PATTERN } });
    }
    op.requestBody = { required: true, content: { "application/json": { schema: body } } };
  }
  if (parameters.length) op.parameters = parameters;
  op.responses = responses(route, pathNames.length > 0, inQuery);
  if (route.public) op.security = [];
  return op;
}

function responses(route: DocumentedRoute, hasPathParams: boolean, inQuery: boolean): JsonSchema {
  const { method, action } = route;
  const decl = action.openapi ?? {};
  const isList = !!action.params && "limit" in action.params && "offset" in action.params;
  const schema = decl.response ?? (isList ? pageSchema() : { type: "object" });
  const type = decl.responseType ?? "application/json";
  const success = { description: "Success", content: { [type]: { schema } } };
  const out: JsonSchema = {};
  const statuses = decl.status ? [decl.status] : method === "POST" ? [200, 201] : [200];
  for (const status of statuses) out[String(status)] = success;
  const errors = new Set<number>();
  const hasInput = Object.keys(action.params ?? {}).some((k) => !k.startsWith("$$")) || !inQuery;
  if (hasInput || !route.public) errors.add(400);
  // Any authenticated action may find nothing (404) or refuse by a business rule (422).
  if (!route.public) [401, 403, 404, 422].forEach((s) => errors.add(s));
  if (hasPathParams) errors.add(404);
  if (!inQuery) [409, 413, 415, 422].forEach((s) => errors.add(s));
  // A state conflict can answer any authenticated change, and a read of one entity (a quote of a
  // loan that is not open), whatever carries its params.
  if (!route.public && (method !== "GET" || hasPathParams)) errors.add(409);
  if (method === "PATCH") errors.add(428);
  for (const status of [...errors].sort()) {
    out[String(status)] = { description: ERROR_DESCRIPTIONS[status], content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } };
  }
  for (const [status, extra] of Object.entries(decl.responses ?? {})) {
    out[status] = { description: extra.description, ...(extra.schema ? { content: { "application/json": { schema: extra.schema } } } : {}) };
  }
  return out;
}
