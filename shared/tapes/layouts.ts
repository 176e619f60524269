/**
 * Standard tape layouts (issue 12 point 2): the columns of ESMA Annex VI (consumer, CMRL codes)
 * and SEC Reg AB II Schedule AL, each filled from a catalogue field. Where the platform holds no
 * value (no field, or the field is null for this loan) an ESMA column carries its "no data" code
 * (ND2 collected but not loaded, ND5 not applicable); Reg AB II has no ND codes and stays empty.
 */
import Decimal from "decimal.js";
import { DEFAULT_FIELDS, FIELDS_BY_CODE, type FieldType, type FieldValue, type TapeContext, type TapeField, type TapeLoan } from "./catalogue";

export const LAYOUTS = ["esma_annex_vi", "reg_ab_ii"] as const;
export type LayoutName = (typeof LAYOUTS)[number];

export interface LayoutColumn {
  header: string;
  /** The catalogue field that fills it; none when the platform does not hold it. */
  field?: string;
  /** What the cell says when there is no value. */
  nd?: string;
  /** ESMA PERCENTAGE: "7.0" means 7 %, so a rate is written ×100. */
  percent?: boolean;
}

const esma = (header: string, field?: string, nd = "ND5", percent = false): LayoutColumn => ({ header, field, nd, percent });
const regab = (header: string, field?: string): LayoutColumn => ({ header, field });

export const LAYOUT_COLUMNS: Record<LayoutName, readonly LayoutColumn[]> = {
  esma_annex_vi: [
    esma("CMRL1", "portfolio_id"),
    esma("CMRL2", "loan_id"),
    esma("CMRL3", "external_id", "ND5"),
    esma("CMRL4", undefined, "ND2"),
    esma("CMRL6", "data_cut_off_date"),
    esma("CMRL7", undefined, "ND2"),
    esma("CMRL10", "borrower_region", "ND2"),
    esma("CMRL21", "origination_date"),
    esma("CMRL22", "maturity_date", "ND5"),
    esma("CMRL23", "original_term_months"),
    esma("CMRL26", "currency"),
    esma("CMRL27", "original_principal", "ND5"),
    esma("CMRL28", "current_principal_balance"),
    esma("CMRL29", "credit_limit", "ND5"),
    esma("CMRL32", "amortisation_type"),
    esma("CMRL34", "payment_frequency"),
    esma("CMRL35", "payment_frequency"),
    esma("CMRL36", "payment_due", "ND5"),
    esma("CMRL37", "current_interest_rate", "ND5", true),
    esma("CMRL38", "index_name", "ND5"),
    esma("CMRL40", "margin", "ND5", true),
    // ND5 for a revolving line (no schedule to prepay), ND2 for a snapshot older than the figure.
    esma("CMRL50", "cumulative_prepayments", "ND2"),
    esma("CMRL53", "arrears_balance"),
    esma("CMRL54", "days_past_due"),
    esma("CMRL55", "account_status"),
    esma("CMRL57", "charged_off_amount", "ND5"),
    esma("CMRL60", "cumulative_recoveries", "ND2"),
  ],
  reg_ab_ii: [
    regab("assetNumber", "loan_id"),
    regab("reportingPeriodEndingDate", "data_cut_off_date"),
    regab("originationDate", "origination_date"),
    regab("originalLoanAmount", "original_principal"),
    regab("originalLoanTerm", "original_term_months"),
    regab("loanMaturityDate", "maturity_date"),
    regab("originalInterestRateTypeCode", "interest_rate_type"),
    regab("obligorCreditScore", "credit_score"),
    regab("obligorGeographicLocation", "borrower_region"),
    regab("reportingPeriodActualEndBalanceAmount", "current_principal_balance"),
    regab("totalActualAmountPaid", "total_collected"),
    regab("currentDelinquencyStatus", "days_past_due"),
    regab("zeroBalanceCode", "zero_balance_code"),
    regab("chargedoffPrincipalAmount", "charged_off_amount"),
    regab("recoveredAmount", "cumulative_recoveries"),
  ],
};

/** A resolved column of a tape: header, the field that fills it, how an empty cell reads. */
export interface TapeColumn {
  header: string;
  type: FieldType;
  field?: TapeField;
  nd?: string;
  percent?: boolean;
}

/** The columns of a config: its layout's, or its required_fields (the defaults when it names none). */
export function tapeColumns(config: { layout?: string | null; required_fields?: string[] | null }): TapeColumn[] {
  if (config.layout) {
    return LAYOUT_COLUMNS[config.layout as LayoutName].map((c) => {
      const field = c.field ? FIELDS_BY_CODE.get(c.field) : undefined;
      return { header: c.header, type: c.percent ? "string" : (field?.type ?? "string"), field, nd: c.nd, percent: c.percent };
    });
  }
  const codes = config.required_fields?.length ? config.required_fields : DEFAULT_FIELDS;
  return codes.map((code) => {
    const field = FIELDS_BY_CODE.get(code)!;
    return { header: code, type: field.type, field };
  });
}

/** One cell's value: the field's, ×100 for an ESMA percentage, or the column's ND code when empty. */
export function cellValue(col: TapeColumn, loan: TapeLoan, ctx: TapeContext): FieldValue {
  const raw = col.field ? col.field.value(loan, ctx) : null;
  if (raw == null || raw === "") return col.nd ? (col.field?.ndCode?.(loan) ?? col.nd) : null;
  if (col.percent) return new Decimal(raw).times(100).toString();
  return raw;
}
