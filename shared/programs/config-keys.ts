/**
 * The type-specific configuration a program sets and a product may override (`program_config`,
 * seed 003): which keys exist for which program type. Validation of values is in the params
 * schema; which keys belong to which type is checked here, because a product's type is its
 * program's.
 */
import { int, money, oneOf, rate, type ProgramType } from "../validation/fields";

export const BUYOUT_TYPES = ["residual", "fixed_price", "fair_market_value"] as const;

export const PROGRAM_CONFIG_FIELDS = {
  installment: {
    interest_only_months: int(0, 120, { optional: true }),
    balloon_amortization_months: int(1, 600, { optional: true }),
    graduated_step_percent: rate({ optional: true, max: 1 }),
    graduated_step_months: int(1, 120, { optional: true }),
  },
  lease: {
    residual_percent: rate({ optional: true, max: 1 }),
    buyout_type: oneOf(BUYOUT_TYPES, { optional: true }),
    buyout_price: money({ optional: true }),
    return_fee: money({ optional: true }),
  },
  line_of_credit: {
    credit_limit: money({ optional: true, positive: true }),
    min_payment_percent: rate({ optional: true, max: 1 }),
    min_payment_floor: money({ optional: true }),
    statement_day: int(1, 28, { optional: true }),
    draw_period_months: int(1, 600, { optional: true }),
  },
} as const satisfies Record<ProgramType, Record<string, object>>;

/** One params schema accepting every known key; `strict` rejects keys that exist for no type. */
export const programConfigParam = {
  type: "object",
  optional: true,
  strict: true,
  props: Object.assign({}, ...Object.values(PROGRAM_CONFIG_FIELDS)),
} as const;

export function programTypeOfConfigKey(key: string): ProgramType | undefined {
  for (const [type, fields] of Object.entries(PROGRAM_CONFIG_FIELDS)) {
    if (key in fields) return type as ProgramType;
  }
  return undefined;
}
