/**
 * Errors the finance engine throws. It has no dependency on Moleculer (it is pure), so services
 * map these to the API vocabulary of shared/errors.ts: FinanceInputError → 400, FinanceRuleError → 422.
 */

/** The input is malformed: a bad decimal, an impossible date, an unknown enumeration value. */
export class FinanceInputError extends Error {
  readonly type = "validation";
  constructor(
    message: string,
    readonly field?: string,
    readonly actual?: unknown,
  ) {
    super(message);
    this.name = "FinanceInputError";
  }
}

/** The input is well formed but a money rule refuses it (a draw above the credit limit, a backdated payment…). */
export class FinanceRuleError extends Error {
  readonly type = "business_rule";
  constructor(
    message: string,
    readonly rule: string,
    readonly data: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "FinanceRuleError";
  }
}
