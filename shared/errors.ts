/**
 * The error vocabulary of the API (DESIGN.md §2). Services throw these; the gateway turns any of
 * them into `{ "error": { "type", "message", "data" } }` with the status code below.
 */
import { Errors } from "moleculer";

export interface FieldError {
  field: string;
  message: string;
  type?: string;
  actual?: unknown;
  /** Which kind of rule refused it: "field" (its own schema), "cross_field", "request" (the request's shape). */
  rule?: string;
}

/** 400: the request is malformed; `data.fields` names every bad field. */
export class BadRequestError extends Errors.MoleculerClientError {
  constructor(message: string, fields: FieldError[] = []) {
    super(message, 400, "VALIDATION_ERROR", { fields });
    this.name = "BadRequestError";
  }
}

/** 404: the addressed entity does not exist (or is not visible to the caller). */
export class NotFoundError extends Errors.MoleculerClientError {
  constructor(entity: string, id: string) {
    super(`${entity} ${id} not found`, 404, "NOT_FOUND", { entity, id });
    this.name = "NotFoundError";
  }
}

/** 409: the request conflicts with the entity's state or an earlier request (idempotency key). */
export class ConflictError extends Errors.MoleculerClientError {
  constructor(message: string, data: Record<string, unknown> = {}) {
    super(message, 409, "CONFLICT", data);
    this.name = "ConflictError";
  }
}

/** 422: well-formed, but a business rule refuses it (inactive program, amount out of range…). */
export class BusinessRuleError extends Errors.MoleculerClientError {
  constructor(message: string, rule: string, data: Record<string, unknown> = {}) {
    super(message, 422, "BUSINESS_RULE", { rule, ...data });
    this.name = "BusinessRuleError";
  }
}

/** 428: a PATCH must name the version it read (body `version` or If-Match), so it cannot overwrite blindly. */
export class PreconditionRequiredError extends Errors.MoleculerClientError {
  constructor(message = "a PATCH must carry the version it read: body 'version' or an If-Match header") {
    super(message, 428, "PRECONDITION_REQUIRED", { fields: [{ field: "version", type: "required", message }] });
    this.name = "PreconditionRequiredError";
  }
}

/** 405: the path exists, the method does not; `data.allow` lists the ones that do. */
export class MethodNotAllowedError extends Errors.MoleculerClientError {
  constructor(method: string, allow: string[]) {
    super(`${method} is not allowed here; allowed: ${allow.join(", ")}`, 405, "METHOD_NOT_ALLOWED", { allow });
    this.name = "MethodNotAllowedError";
  }
}

/** 401 / 403 */
export class UnauthorizedError extends Errors.MoleculerClientError {
  constructor(message = "a valid bearer token is required") {
    super(message, 401, "UNAUTHORIZED");
    this.name = "UnauthorizedError";
  }
}
export class ForbiddenError extends Errors.MoleculerClientError {
  constructor(message: string) {
    super(message, 403, "FORBIDDEN");
    this.name = "ForbiddenError";
  }
}

/** Collects field errors so one response can name all of them (cross-field rules included). */
export class FieldErrors {
  private readonly list: FieldError[] = [];
  add(field: string, message: string, type = "invalid", actual?: unknown): this {
    this.list.push({ field, message, type, actual });
    return this;
  }
  addAll(errors: FieldError[]): this {
    this.list.push(...errors);
    return this;
  }
  get any(): boolean {
    return this.list.length > 0;
  }
  throwIfAny(message = "invalid request"): void {
    if (this.any) throw new BadRequestError(message, this.list);
  }
}
