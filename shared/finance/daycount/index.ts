/** Day-count conventions chosen by name (DESIGN §3), and the public `yearFraction`. */
import { Decimal } from "../decimal";
import { parseIsoDate, type CivilDate, type IsoDate } from "../dates";
import { FinanceInputError } from "../errors";
import { actual360 } from "./actual360";
import { actual365 } from "./actual365";
import { actualActualIsda } from "./actualActualIsda";
import { thirty360 } from "./thirty360";
import type { DayCount, DayCountConventionName } from "./types";

export type { DayCount, DayCountConventionName, YearFractionRatio } from "./types";

const CONVENTIONS: Record<DayCountConventionName, DayCount> = {
  actual_360: actual360,
  actual_365: actual365,
  "30_360": thirty360,
  actual_actual: actualActualIsda,
};

export const DAY_COUNT_CONVENTIONS = Object.keys(CONVENTIONS) as DayCountConventionName[];

export function dayCountFor(convention: string): DayCount {
  const dc = CONVENTIONS[convention as DayCountConventionName];
  if (!dc) throw new FinanceInputError(`unknown day_count_convention '${convention}'`, "day_count_convention", convention);
  return dc;
}

export function yearFractionOf(dc: DayCount, start: CivilDate, end: CivilDate): Decimal {
  const { numerator, denominator } = dc.yearFractionRatio(start, end);
  return new Decimal(numerator).div(denominator);
}

/** DESIGN §3 `yf(start, end)` for a named convention, on ISO dates. */
export function yearFraction(convention: DayCountConventionName | string, start: IsoDate, end: IsoDate): Decimal {
  return yearFractionOf(dayCountFor(convention), parseIsoDate(start, "start"), parseIsoDate(end, "end"));
}
