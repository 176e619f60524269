/**
 * What an answer shows of an investor: bank details opened and masked to their last four
 * (DESIGN.md §9: masked in every answer), never the sealed record.
 */
import { maskLastFour, open, type KeyRing, type SealedValue } from "../../shared/crypto/field-encryption";

export interface BankDetails {
  bank_name?: string;
  account_holder?: string;
  account_number?: string;
  routing_number?: string;
  iban?: string;
  swift_bic?: string;
}

/** Every bank field masked to its last four: even a bank name says little, and the rule is simple. */
export function maskBankDetails(details: BankDetails | null): Record<string, string | null> | null {
  if (!details) return null;
  const out: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(details)) if (v != null) out[k] = maskLastFour(v);
  return out;
}

export function investorView(ring: KeyRing, doc: any): Record<string, unknown> {
  const json = typeof doc.toJSON === "function" ? doc.toJSON() : { ...doc, id: doc._id };
  const { bank_details_sealed, _id, ...rest } = json;
  const sealed = bank_details_sealed as SealedValue | null;
  const details = sealed ? open<BankDetails>(ring, sealed, String(json.id ?? _id)) : null;
  return { ...rest, id: json.id ?? _id, bank_details: maskBankDetails(details), bank_details_key_id: sealed?.kid ?? null };
}
