/** Request bodies of the investors service (seed 000: name, type, contact, bank details). */
import { isoDate, money, oneOf, text } from "../../shared/validation/fields";
import { patchParams } from "../../shared/validation/patch";

export const INVESTOR_TYPES = ["individual", "institutional", "fund", "bank", "other"] as const;
export const investorId = { type: "string", pattern: "^[A-Za-z0-9_-]{1,64}$", messages: { stringPattern: "The '{field}' field must be an id of letters, digits, '_' or '-' (at most 64)" } } as const;

const accountish = (max: number) => ({ type: "string", optional: true, min: 4, max, pattern: "^[A-Za-z0-9 -]+$", messages: { stringPattern: "The '{field}' field must be letters, digits, spaces or '-'" } }) as const;

export const bankDetails = {
  type: "object",
  strict: true,
  optional: true,
  nullable: true,
  props: {
    bank_name: text(200, { optional: true }),
    account_holder: text(200, { optional: true }),
    account_number: accountish(34),
    routing_number: accountish(20),
    iban: accountish(42),
    swift_bic: accountish(11),
  },
} as const;

export const investorFields = {
  name: text(200),
  investor_type: oneOf(INVESTOR_TYPES),
  contact: {
    type: "object",
    strict: true,
    optional: true,
    props: { email: { type: "email", optional: true, max: 200 }, phone: text(40, { optional: true }), address: text(500, { optional: true }) },
  },
  bank_details: bankDetails,
};

export const createInvestorParams = { $$strict: true, id: { ...investorId, optional: true }, ...investorFields };
export const patchInvestorParams = { id: investorId, ...patchParams(investorFields) };

export const createAssignmentParams = {
  $$strict: true,
  id: investorId,
  loan_id: { ...investorId },
  portfolio_id: { ...investorId, optional: true },
  assignment_date: isoDate(),
  purchase_price: money(),
};
