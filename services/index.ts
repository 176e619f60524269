/** Every service of the system by name; bin/start.ts runs the ones SERVICES names. */
import type { ServiceSchema } from "moleculer";
import type { ServiceName } from "../shared/config";
import gateway from "./gateway.service";
import scheduler from "./scheduler.service";
import programs from "./programs.service";
import rates from "./rates.service";
import loans from "./loans.service";
import portfolios from "./portfolios.service";
import snapshots from "./snapshots.service";
import investors from "./investors.service";
import tapes from "./tapes.service";

export const SERVICE_SCHEMAS: Record<ServiceName, ServiceSchema<any, any, any, any>> = {
  gateway,
  scheduler,
  programs,
  rates,
  loans,
  portfolios,
  snapshots,
  investors,
  tapes,
};
