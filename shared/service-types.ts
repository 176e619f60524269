/**
 * Typed service schemas: `this` inside a handler knows the service's settings, its mixins'
 * variables (e.g. the Mongo models) and its own methods.
 */
import type { Service, ServiceSchema, ServiceSettingSchema } from "moleculer";

export type Settings = ServiceSettingSchema & Record<string, any>;
export type TypedServiceSchema<Vars, Methods> = ServiceSchema<Settings, Methods, Vars>;
export type ServiceThis<Vars, Methods> = Service<Settings> & Vars & Methods;
